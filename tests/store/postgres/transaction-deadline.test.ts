// A transaction of the PostgreSQL store that gets no answer within its deadline fails as a lost
// connection would (a storage fault), so the caller is not held for ever; the transaction itself
// sends nothing more and, once the statement under way is answered, is rolled back and gives its
// connection back. The stall here is a row lock held by another session.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type postgres from "postgres";
import { HTTP_DRAIN_MS, SHUTDOWN_DEADLINE_MS } from "../../../src/cli/serve.ts";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { postgresFaultOf } from "../../../src/store/postgres/faults.ts";
import { DEFAULT_TRANSACTION_DEADLINE_MS } from "../../../src/store/postgres/store.ts";
import { CREATED_EVENT, newTaskRow } from "../../helpers.ts";
import { rawClient, testDatabase } from "./database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresTaskStore;
let raw: postgres.Sql;

beforeAll(async () => {
  database = await testDatabase();
  const migrating = new PostgresTaskStore({ url: database.url });
  await migrating.migrate();
  await migrating.close();
  // One connection: the test shows it is given back.
  store = new PostgresTaskStore({ url: database.url, max: 1, transactionDeadlineMs: 500 });
  raw = rawClient(database.url);
});

afterAll(async () => {
  await store?.close();
  await raw?.end({ timeout: 1 });
  await database?.drop();
});

test("a transaction past its deadline fails as a lost connection; what it wrote is rolled back and its connection given back", async () => {
  const task = newTaskRow();
  await store.createTask(task, CREATED_EVENT);
  const other = newTaskRow();
  await store.createTask(other, CREATED_EVENT);

  // Another session holds the task's row: the store's update waits for it.
  const locked = raw.reserve();
  const holder = await locked;
  await holder`BEGIN`;
  await holder`SELECT id FROM tasks WHERE id = ${task.id} FOR UPDATE`;

  let afterTheWait = false;
  const startedAt = performance.now();
  const outcome = await store
    .transaction(async (tx) => {
      await tx.updateTask(other.id, { statusReason: "written before the wait" });
      await tx.updateTask(task.id, { statusReason: "written after the wait" });
      afterTheWait = true;
      await tx.updateTask(other.id, { statusReason: "never sent" });
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  const waitedMs = performance.now() - startedAt;
  expect(postgresFaultOf(outcome)?.cause).toBe("unreachable");
  expect(String(outcome)).toContain("no answer from PostgreSQL within 500 ms");
  expect(waitedMs).toBeLessThan(5_000);

  // The lock goes: the update under way is answered, nothing more is sent, and it is rolled back.
  await holder`ROLLBACK`;
  holder.release();
  const next = await store.transaction(async (tx) => tx.getTask(task.id));
  expect(afterTheWait).toBe(true);
  expect(next?.statusReason).toBeNull();
  expect((await store.getTask(other.id))?.statusReason).toBeNull();

  // The one connection was given back: the store goes on.
  await store.transaction(async (tx) => {
    await tx.updateTask(other.id, { statusReason: "after" });
  });
  expect((await store.getTask(other.id))?.statusReason).toBe("after");
});

test("by default a stuck transaction is failed early enough for kiln serve's shutdown to finish the writes after it", () => {
  // A shutdown flushes the engine's commits, which go one at a time: one stuck at the moment of
  // SIGTERM must be failed (and its writes kept, then retried on a new connection) with a few
  // seconds to spare before kiln serve gives up and exits 1. A stuck commit was seen to do
  // exactly that with a deadline of 30 s.
  expect(HTTP_DRAIN_MS + DEFAULT_TRANSACTION_DEADLINE_MS + 2_000).toBeLessThanOrEqual(SHUTDOWN_DEADLINE_MS);
});
