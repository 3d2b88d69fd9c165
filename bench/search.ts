// Scenario "search" (run with --only search; it needs the local PostgreSQL): 1,000,000 tasks
// (100,000 with --quick) in a SQLite file and in a PostgreSQL database, then each GET /tasks
// filter of params fields and times, alone and with the others, read through the store port a
// page (50) at a time: p50 and p99 per filter and store.

import postgres from "postgres";
import {
  type ListTasksQuery,
  PostgresTaskStore,
  SqliteTaskStore,
  type TaskStore,
} from "../src/store/index.ts";
import { PG_HOST, PG_PORT, PG_USER, pgUrl } from "./peers/postgres.ts";
import {
  CUSTOMERS,
  type FilledDatabase,
  fillPostgres,
  fillSqlite,
  REGIONS,
  SEARCH_MIX,
  SPACING_MS,
} from "./search-rows.ts";
import { type Row, round, type Scenario, type ScenarioResult, summarize, tempDir } from "./util.ts";

/** The aim for every filter at 1M tasks. */
const AIM_MS = 10;
const PAGE = 50;

interface Measured {
  store: string;
  label: string;
  p50: number;
  p99: number;
  max: number;
  n: number;
  items: number;
}

/** The filters measured, with a label saying how much they match; times are offsets from the fill's base. */
function queries(filled: FilledDatabase): [label: string, query: ListTasksQuery][] {
  const { rows, base } = filled;
  const at = (i: number) => base + i * SPACING_MS;
  const middle = at(Math.floor(rows / 2));
  const param = (path: string, value: string) => ({ path, value });
  const perCustomer = Math.round(rows / CUSTOMERS);
  return [
    [`param.customerId (${perCustomer} tasks)`, { params: [param("customerId", "c-42")] }],
    [`param.region (1 in ${REGIONS})`, { params: [param("region", "r3")] }],
    ["param.order.id (1 task)", { params: [param("order.id", String(Math.floor(rows / 3)))] }],
    ["param.customerId (no match)", { params: [param("customerId", "nobody")] }],
    [
      `param.customerId + param.region (${perCustomer} tasks)`,
      { params: [param("customerId", "c-42"), param("region", "r2")] },
    ],
    ["param.region + status=FAILED (0.2%)", { params: [param("region", "r2")], status: "FAILED" }],
    ["param.region + name (2%)", { params: [param("region", "r0")], name: "walk-directory" }],
    [
      "param.region + cursor in the middle",
      { params: [param("region", "r1")], cursor: `${middle.toString(16).padStart(12, "0").slice(0, 8)}-` },
    ],
    ["createdAfter (the last minute)", { createdAfter: at(rows) - 60_000 }],
    [
      "createdAfter + createdBefore (1 min in the middle)",
      { createdAfter: middle, createdBefore: middle + 60_000 },
    ],
    ["createdBefore (the oldest 10%)", { createdBefore: at(Math.floor(rows / 10)) }],
    ["endedAfter (the last minute)", { endedAfter: at(rows) - 60_000 }],
    ["endedAfter + endedBefore (1 min in the middle)", { endedAfter: middle, endedBefore: middle + 60_000 }],
    ["endedBefore (the oldest 10%)", { endedBefore: at(Math.floor(rows / 10)) }],
    ["endedAfter (the whole range)", { endedAfter: base }],
    ["endedAfter (after the last end: no match)", { endedAfter: at(rows) + 120_000 }],
    ["endedAfter + endedBefore (1 s in the middle)", { endedAfter: middle, endedBefore: middle + 1_000 }],
    ["status=FAILED + createdAfter (the newest half)", { status: "FAILED", createdAfter: middle }],
    ["name + endedBefore (the oldest half)", { name: "walk-directory", endedBefore: middle }],
    [
      "param.customerId + createdAfter (the newest half)",
      { params: [param("customerId", "c-42")], createdAfter: middle },
    ],
    ["no filter (for comparison)", {}],
  ];
}

async function measure(
  store: TaskStore,
  name: string,
  filled: FilledDatabase,
  quick: boolean,
): Promise<Measured[]> {
  const rounds = quick ? 50 : 300;
  const out: Measured[] = [];
  for (const [label, query] of queries(filled)) {
    const page = { ...query, limit: PAGE };
    let items = 0;
    for (let i = 0; i < 20; i++) items = (await store.listTasks(page)).items.length;
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await store.listTasks(page);
      ms.push(performance.now() - t0);
    }
    const summary = summarize(ms);
    out.push({
      store: name,
      label,
      p50: summary.median,
      p99: summary.p99,
      max: summary.max,
      n: summary.n,
      items,
    });
  }
  return out;
}

/** CREATE or DROP DATABASE from the server's postgres database (through postgres.js, as the store). */
async function admin(statement: string): Promise<void> {
  const sql = postgres(pgUrl("postgres"), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Null when the local PostgreSQL takes a CREATE DATABASE; otherwise why not. */
async function pgUnavailable(): Promise<string | null> {
  try {
    await admin("SELECT 1");
    return null;
  } catch (error) {
    return `PostgreSQL at ${PG_USER}@${PG_HOST}:${PG_PORT}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export const search: Scenario = {
  name: "search",
  async run(options): Promise<ScenarioResult> {
    const rows = options.quick ? 100_000 : 1_000_000;
    const results: Measured[] = [];
    const fills: Row[] = [];
    const tmp = tempDir("search");
    try {
      const filled = fillSqlite(tmp.db, rows);
      fills.push({ store: "sqlite", "fill ms (bulk SQL)": filled.fillMs });
      const store = new SqliteTaskStore({ path: tmp.db });
      try {
        results.push(...(await measure(store, "sqlite", filled, options.quick)));
      } finally {
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
    const down = await pgUnavailable();
    if (down) {
      fills.push({ store: "postgres", "fill ms (bulk SQL)": `skipped: ${down}` });
    } else {
      const database = `kiln_search_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      await admin(`CREATE DATABASE ${database}`);
      try {
        const filled = await fillPostgres(pgUrl(database), rows);
        fills.push({ store: "postgres", "fill ms (bulk SQL)": filled.fillMs });
        const store = new PostgresTaskStore({ url: pgUrl(database), max: 2 });
        try {
          results.push(...(await measure(store, "postgres", filled, options.quick)));
        } finally {
          await store.close();
        }
      } finally {
        await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      }
    }
    const over = results.filter((r) => r.p99 > AIM_MS);
    const worst = [...results].sort((a, b) => b.p99 - a.p99)[0];
    return {
      name: "search",
      headlines: [
        {
          what: `GET /tasks filters by params field and time at ${rows.toLocaleString("en-US")} tasks (store port, page of ${PAGE}): p99`,
          aim: `p99 ≤ ${AIM_MS} ms${options.quick ? " (at 1,000,000 tasks)" : ""}`,
          measured:
            over.length === 0
              ? `all ${results.length} within (worst ${worst?.store} ${worst?.label}: ${worst?.p99} ms)`
              : `${over.length} of ${results.length} over: ${over.map((r) => `${r.store} ${r.label} ${r.p99} ms`).join("; ")}`,
          met: options.quick ? null : over.length === 0,
        },
      ],
      tables: [
        { title: `search: filling ${rows.toLocaleString("en-US")} tasks`, rows: fills },
        {
          title: `search: a page of ${PAGE} per filter, ${rows.toLocaleString("en-US")} tasks (ms)`,
          rows: results.map((r) => ({
            store: r.store,
            filter: r.label,
            items: r.items,
            p50: round(r.p50, 3),
            p99: round(r.p99, 3),
            max: round(r.max, 3),
            n: r.n,
          })),
        },
      ],
      figures: { rows, quick: options.quick, results },
      notes: [
        `The tasks: ${SEARCH_MIX}. Written with bulk SQL after kiln's own migration, task_params rows as kiln writes them at create. SQLite gets no ANALYZE (kiln runs none); PostgreSQL gets the VACUUM ANALYZE its autovacuum would run. Generation is not part of any figure.`,
        `Each filter: ${PAGE} per page, 20 unrecorded reads, then ${options.quick ? 50 : 300} reads one at a time through the store port (SqliteTaskStore, PostgresTaskStore over loopback with 2 connections), the time of each from call to page decoded.`,
      ],
    };
  },
};
