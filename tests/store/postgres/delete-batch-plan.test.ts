// deleteEndedBefore deletes at most its limit whatever plan PostgreSQL picks. Picked as
// `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`, a nested-loop semi-join rescans the subquery
// for each row it deletes; each rescan skips the rows the statement has already deleted and takes
// the next ones, so a small table (where that plan is cheapest) lost every ended task at once.
// This database's sessions are told to avoid every other join and to rescan instead of
// materializing, the plan under which that happened.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type postgres from "postgres";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { CREATED_EVENT, newTaskRow } from "../../helpers.ts";
import { rawClient, testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresTaskStore;
let raw: postgres.Sql;

beforeAll(async () => {
  database = await testDatabase();
  raw = rawClient(database.url);
  const name = new URL(database.url).pathname.slice(1);
  for (const setting of [
    "enable_hashjoin",
    "enable_hashagg",
    "enable_mergejoin",
    "enable_material",
    "enable_sort",
  ]) {
    await raw.unsafe(`ALTER DATABASE "${name}" SET ${setting} = off`);
  }
  // Opened after the settings, the store's sessions and this one start with them.
  await raw.end({ timeout: 1 });
  raw = rawClient(database.url);
  store = new PostgresTaskStore({ url: database.url });
  await store.migrate();
});

afterAll(async () => {
  try {
    await store?.close();
    await raw?.end({ timeout: 1 });
  } finally {
    await database?.drop();
  }
});

test("deleteEndedBefore deletes at most `limit` tasks a call under a nested-loop plan", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const task = newTaskRow();
    await store.createTask(task, CREATED_EVENT);
    ids.push(task.id);
  }
  await raw`UPDATE tasks SET status = 'FINISHED', end_time = 1`;
  const [plan] = await raw<{ hash: string; material: string }[]>`
    SELECT current_setting('enable_hashjoin') AS hash, current_setting('enable_material') AS material`;
  expect(plan).toEqual({ hash: "off", material: "off" });
  const cutoff = Date.now() + 60_000;
  const batches: number[] = [];
  const deleted: string[] = [];
  for (let call = 0; call < 4; call++) {
    const batch = await store.deleteEndedBefore(cutoff, 3);
    batches.push(batch.length);
    deleted.push(...batch.map((task) => task.id));
  }
  expect(batches).toEqual([3, 3, 1, 0]);
  expect(deleted.sort()).toEqual(ids.sort());
});
