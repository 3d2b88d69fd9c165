// The PostgreSQL claim of a name with flow rules (`claimFlow`), statement by statement: it takes
// only what the limits counted in the database allow, and says what holds the rest back.
import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import type postgres from "postgres";
import type { FlowClaim, FlowClaimRequest, NewTask } from "../../../src/store/index.ts";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { newTaskRow } from "../../helpers.ts";
import { rawClient, testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresTaskStore;
let raw: postgres.Sql;

const created = {
  fromStatus: null,
  toStatus: "PENDING" as const,
  action: "create" as const,
  reason: null,
  actor: "test",
  source: null,
};

beforeAll(async () => {
  database = await testDatabase();
  store = new PostgresTaskStore({ url: database.url, max: 2 });
  await store.migrate();
  raw = rawClient(database.url);
});

afterAll(async () => {
  await raw?.end({ timeout: 1 });
  await store?.close();
  await database?.drop();
});

beforeEach(async () => {
  await raw`TRUNCATE tasks, task_events, rate_starts CASCADE`;
});

const request = (overrides: Partial<FlowClaimRequest>): FlowClaimRequest => ({
  node: "node-a",
  leaseMs: 10_000,
  limit: 10,
  names: ["import"],
  now: Date.now(),
  name: "import",
  classLimit: null,
  keyLimit: null,
  rate: null,
  candidates: 1000,
  ...overrides,
});

async function add(keys: Array<Partial<NewTask>>): Promise<string[]> {
  const ids: string[] = [];
  for (const key of keys) {
    const task = await store.createTask(newTaskRow({ taskName: "import", ...key }), created);
    ids.push(task.id);
  }
  return ids;
}

async function claim(overrides: Partial<FlowClaimRequest>): Promise<FlowClaim> {
  const answer = await store.transaction(async (tx) => tx.claimFlow?.(request(overrides)));
  if (!answer) throw new Error("the claim found the name's lock taken");
  return answer;
}

test("a per-key limit: one run per key, the full keys named, none more until one ends", async () => {
  const [a1, b1, a2, c1] = await add([
    { concurrencyKey: "a" },
    { concurrencyKey: "b" },
    { concurrencyKey: "a" },
    { concurrencyKey: "c" },
  ]);
  const first = await claim({ keyLimit: 1 });
  expect(first.tasks.map((task) => task.id).sort()).toEqual([a1, b1, c1].sort() as string[]);
  expect(first.tasks.every((task) => task.status === "RUNNING" && task.node === "node-a")).toBe(true);
  expect(first.fullKeys.sort()).toEqual(["a", "b", "c"]);
  // Another node's claim, later: "a" is still held, so a2 waits.
  const second = await claim({ node: "node-b", keyLimit: 1 });
  expect(second.tasks).toEqual([]);
  expect(second.fullKeys.sort()).toEqual(["a", "b", "c"]);
  await raw`UPDATE tasks SET status = 'FINISHED' WHERE id = ${a1 as string}`;
  const third = await claim({ node: "node-b", keyLimit: 1 });
  expect(third.tasks.map((task) => task.id)).toEqual([a2 as string]);
});

test("a rate limit: at most `count` starts per key in the window, with when the next may be", async () => {
  await add([{ rateKey: "a" }, { rateKey: "a" }, { rateKey: "a" }, { rateKey: "b" }]);
  const first = await claim({ rate: { count: 2, perMs: 60_000 } });
  const keys = (ids: FlowClaim["tasks"]) => ids.map((task) => task.rateKey).sort();
  expect(keys(first.tasks)).toEqual(["a", "a", "b"]);
  expect(first.ratedKeys.map(([key]) => key)).toEqual(["a"]);
  const [, notBefore] = first.ratedKeys[0] as [string, number];
  expect(notBefore).toBe((first.tasks[0]?.startTime as number) + 60_000);
  // The start time written is the database's, the clock the window is counted in.
  expect(first.tasks.every((task) => task.startTime === first.now)).toBe(true);
  const second = await claim({ node: "node-b", rate: { count: 2, perMs: 60_000 } });
  expect(second.tasks).toEqual([]);
  expect(second.ratedKeys.map(([key]) => key)).toEqual(["a"]);
  const counted = await raw<{ n: number }[]>`SELECT count(*)::int AS n FROM rate_starts`;
  expect(counted[0]?.n).toBe(3);
});

test("starts out of the window no longer count, and are pruned", async () => {
  await add([{ rateKey: "a" }, { rateKey: "a" }]);
  const first = await claim({ rate: { count: 1, perMs: 60_000 } });
  expect(first.tasks).toHaveLength(1);
  // The start as if a window ago.
  await raw`UPDATE rate_starts SET at = at - 60000`;
  const second = await claim({ rate: { count: 1, perMs: 60_000 } });
  expect(second.tasks).toHaveLength(1);
  const rows = await raw<{ at: string }[]>`SELECT at FROM rate_starts`;
  expect(rows).toHaveLength(1);
});

test("a class limit with a rate limit: the name's runs are capped too", async () => {
  await add([{ rateKey: "" }, { rateKey: "" }, { rateKey: "" }, { rateKey: "" }]);
  const first = await claim({ classLimit: 2, rate: { count: 10, perMs: 60_000 } });
  expect(first.tasks).toHaveLength(2);
  const second = await claim({ classLimit: 2, rate: { count: 10, perMs: 60_000 } });
  expect(second.tasks).toHaveLength(0);
});

test("a full key's backlog does not hide other keys from a claim that looks at few rows", async () => {
  const rows: Array<Partial<NewTask>> = [{ concurrencyKey: "a" }];
  for (let i = 0; i < 5; i++) rows.push({ concurrencyKey: "a" });
  rows.push({ concurrencyKey: "b" });
  const ids = await add(rows);
  expect((await claim({ keyLimit: 1, candidates: 3 })).tasks.map((task) => task.id)).toEqual([
    ids[0] as string,
  ]);
  // "a" is full: its five waiting rows are left out before the three candidates are chosen.
  expect((await claim({ keyLimit: 1, candidates: 3 })).tasks.map((task) => task.id)).toEqual([
    ids.at(-1) as string,
  ]);
});

test("rows without a stored key count under the name-wide key", async () => {
  await add([{}, {}]);
  const first = await claim({ keyLimit: 1 });
  expect(first.tasks).toHaveLength(1);
  expect(first.fullKeys).toEqual([""]);
});

test("tasks stored without keys are found, locked, and given keys once", async () => {
  const [old, keyed] = await add([{ params: { customer: "a" } }, { concurrencyKey: "b" }]);
  const found = await store.transaction(async (tx) => {
    const tasks = (await tx.unkeyedTasks?.("import", 10)) ?? [];
    await tx.setTaskKeys?.(tasks.map((task) => ({ id: task.id, rateKey: null, concurrencyKey: "a" })));
    return tasks.map((task) => task.id);
  });
  expect(found).toEqual([old as string]);
  expect((await store.getTask(old as string))?.concurrencyKey).toBe("a");
  expect((await store.getTask(keyed as string))?.concurrencyKey).toBe("b");
  expect(await store.transaction(async (tx) => (await tx.unkeyedTasks?.("import", 10))?.length)).toBe(0);
});
