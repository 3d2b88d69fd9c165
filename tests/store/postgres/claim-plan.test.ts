// The claims read the ready tasks through their indexes, in claim order, whatever the backlog.
// The indexes are built `priority DESC NULLS LAST`; a claim ordered by plain `priority DESC`
// (NULLS FIRST) could not read them in order, so PostgreSQL sorted every ready row for each claim:
// 32 ms a claim at 20,000 ready tasks, which held kiln on PostgreSQL to about 50 tasks a second.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type postgres from "postgres";
import { CLUSTER_SQL } from "../../../src/store/postgres/cluster-sql.ts";
import { type StoreUnderTest, storeUnderTest } from "./database.ts";

const BACKLOG = 20_000;

let underTest: StoreUnderTest;
let raw: postgres.Sql;

beforeAll(async () => {
  underTest = await storeUnderTest();
  raw = underTest.raw;
  await raw.unsafe(
    `INSERT INTO tasks (id, task_name, status, created_at, updated_at)
     SELECT lpad(n::text, 12, '0'), 'bench-noop', 'PENDING', n, n FROM generate_series(1, ${BACKLOG}) AS n`,
  );
  await raw.unsafe("ANALYZE tasks");
});

afterAll(async () => {
  await underTest?.close();
});

interface PlanNode {
  "Node Type": string;
  "Parent Relationship"?: string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The nodes whose rows a node reads: not the CTEs and subplans a plan hangs under its top node. */
function input(plan: PlanNode): PlanNode[] {
  const children = (plan.Plans ?? []).filter(
    (child) => child["Parent Relationship"] !== "InitPlan" && child["Parent Relationship"] !== "SubPlan",
  );
  return [plan, ...children.flatMap(input)];
}

/** The plan of `sql` with these parameters under a plan cache mode, as PostgreSQL would run it (not run). */
async function planOf(sql: string, params: unknown[], mode: string): Promise<PlanNode> {
  const [row] = await raw.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL plan_cache_mode = ${mode}`);
    return tx.unsafe<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }[]>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params as postgres.ParameterOrJSON<never>[],
    );
  });
  const plan = row?.["QUERY PLAN"][0]?.Plan;
  if (!plan) throw new Error("EXPLAIN gave no plan");
  return plan;
}

/** What a plan does with the tasks table: its scans, and whether any sort reads them. */
function tasksAccess(plan: PlanNode) {
  const scans = nodes(plan).filter((node) => node["Relation Name"] === "tasks");
  const sortsTasks = nodes(plan)
    .filter((node) => node["Node Type"] === "Sort")
    .some((sort) => input(sort).some((node) => node["Relation Name"] === "tasks"));
  return {
    seqScans: scans.filter((node) => node["Node Type"] === "Seq Scan").length,
    indexes: [...new Set(scans.map((node) => node["Index Name"]).filter(Boolean))].sort(),
    sortsTasks,
  };
}

const NAMES = JSON.stringify(["bench-noop"]);

// The store's statements are prepared, and PostgreSQL plans a prepared statement without its
// values after five runs: both plans must read the index.
for (const mode of ["force_custom_plan", "force_generic_plan"]) {
  test(`a claim reads ${BACKLOG} ready tasks through tasks_ready without sorting them (${mode})`, async () => {
    const access = tasksAccess(
      await planOf(CLUSTER_SQL.claimReady, ["node-a", 15_000, 2, NAMES, Date.now()], mode),
    );
    expect(access).toEqual({ seqScans: 0, indexes: ["tasks_pkey", "tasks_ready"], sortsTasks: false });
  });

  // A class with a concurrency limit: the room left is known only once the statement has counted
  // the name's runs, and a limit computed so was planned as a tenth of the backlog, then sorted.
  test(`a limited claim reads ${BACKLOG} ready tasks through tasks_ready without sorting them (${mode})`, async () => {
    const access = tasksAccess(
      await planOf(CLUSTER_SQL.claimLimited, ["node-a", 15_000, 2, NAMES, Date.now(), 4], mode),
    );
    expect(access.seqScans).toBe(0);
    expect(access.indexes).toContain("tasks_ready");
    expect(access.sortsTasks).toBe(false);
  });
}
