// The history rows of a transaction opened by hand are written together as it commits (see
// sqlite-event-buffer.ts): every one lands, in the order the writes were made, however many; a
// rolled-back part's rows do not; a delete in the same transaction finds the rows to cascade to;
// and nothing of them outlives a rollback.

import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { SqliteTransactions } from "../../src/store/sqlite-transactions.ts";
import { allEvents, createEvent, event, newTask, rejection } from "./conformance/harness.ts";
import { sqliteStores } from "./sqlite-stores.ts";

const stores = sqliteStores("kiln-event-buffer-");
const openStore = stores.open;

const start = event("PENDING", "RUNNING", "start");
const finish = event("RUNNING", "FINISHED", "finish");

test("300 tasks created, started and finished in one transaction: 900 history rows, in the order written", async () => {
  const store = await openStore();
  const ids: string[] = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < 300; i++) ids.push((await tx.createTask(newTask(), createEvent())).id);
    for (const id of ids) await tx.transition(id, ["PENDING"], { status: "RUNNING" }, start);
    for (const id of ids) await tx.transition(id, ["RUNNING"], { status: "FINISHED" }, finish);
  });
  const order: number[][] = [];
  for (const id of ids) {
    const events = await allEvents(store, id);
    expect(events.map((e) => e.action)).toEqual(["create", "start", "finish"]);
    order.push(events.map((e) => e.id));
  }
  // Each kind of write came in task order: the ids of the creates, the starts and the finishes
  // each ascend with the task, and every start follows every create.
  for (const column of [0, 1, 2]) {
    const ids = order.map((row) => row[column] as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  }
  expect(Math.min(...order.map((row) => row[1] as number))).toBeGreaterThan(
    Math.max(...order.map((row) => row[0] as number)),
  );
});

test("a part rolled back to its savepoint takes its history rows with it; the rest commits with theirs", async () => {
  const store = await openStore();
  const kept = await store.createTask(newTask(), createEvent());
  const undone = await store.createTask(newTask(), createEvent());
  await store.transaction(async (tx) => {
    await tx.transition(kept.id, ["PENDING"], { status: "RUNNING" }, start);
    await rejection(
      tx.attempt(async (part) => {
        await part.transition(undone.id, ["PENDING"], { status: "RUNNING" }, start);
        throw new Error("this part fails");
      }),
    );
    await tx.transition(kept.id, ["RUNNING"], { status: "FINISHED" }, finish);
  });
  expect((await allEvents(store, kept.id)).map((e) => e.action)).toEqual(["create", "start", "finish"]);
  expect((await allEvents(store, undone.id)).map((e) => e.action)).toEqual(["create"]);
  expect((await store.getTask(undone.id))?.status).toBe("PENDING");
});

test("a task ended and deleted in one transaction leaves no history behind", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  await store.transaction(async (tx) => {
    await tx.transition(task.id, ["PENDING"], { status: "RUNNING" }, start);
    await tx.transition(task.id, ["RUNNING"], { status: "FINISHED" }, finish);
    expect(await tx.deleteTask(task.id)).toBe(true);
  });
  expect(await store.getTask(task.id)).toBeUndefined();
  expect(await allEvents(store, task.id)).toHaveLength(0);
});

test("a rolled-back transaction's history rows are not written by the next one", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  await rejection(
    store.transaction(async (tx) => {
      await tx.transition(task.id, ["PENDING"], { status: "RUNNING" }, start);
      throw new Error("undo");
    }),
  );
  await store.transaction(async (tx) => {
    await tx.transition(task.id, ["PENDING"], { status: "RUNNING" }, start);
  });
  expect((await allEvents(store, task.id)).map((e) => e.action)).toEqual(["create", "start"]);
});

test("a transaction SQLite rolled back itself (as on a full disk) commits none of its history rows", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  await store.close();
  const db = new Database(store.location);
  try {
    const transactions = new SqliteTransactions(db);
    transactions.control("begin", "kiln");
    expect(transactions.buffersEvents).toBe(true);
    transactions.events.add(task.id, Date.now(), start);
    // What SQLite does by itself after SQLITE_FULL or SQLITE_IOERR in a transaction.
    db.exec("ROLLBACK");
    expect(() => transactions.control("commit", "kiln")).toThrow(/no transaction is active/);
    const rows = db.query("SELECT action FROM task_events WHERE task_id = ?").all(task.id) as {
      action: string;
    }[];
    expect(rows.map((row) => row.action)).toEqual(["create"]);
  } finally {
    db.close();
  }
});
