// Inside a transaction of the asynchronous port, SQLite's writes join it without a savepoint of
// their own: a write whose first statement (the row) fails has written nothing, as SQLite undoes
// a failed statement alone. Its history row is written with the transaction's others as it
// commits (or as the savepoint of a part is released); one that fails then must never leave the
// rows it belongs to committed without it: the transaction (or the part) fails as a whole, as any
// failed statement makes it fail on PostgreSQL.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import type { SqliteTaskStore } from "../../src/store/index.ts";
import { allEvents, createEvent, createIn, event, newTask, rejection } from "./conformance/harness.ts";
import { sqliteStores } from "./sqlite-stores.ts";

const stores = sqliteStores("kiln-half-write-");

/** A migrated store whose history refuses any event with the reason "refused", as a real trigger. */
async function openStore(): Promise<SqliteTaskStore> {
  const store = await stores.open();
  const db = new Database(store.location);
  try {
    db.exec(`CREATE TRIGGER refuse_event BEFORE INSERT ON task_events WHEN NEW.reason = 'refused'
             BEGIN SELECT RAISE(ABORT, 'history refused'); END`);
  } finally {
    db.close();
  }
  return store;
}

const refused = event("PENDING", "RUNNING", "start", { reason: "refused" });

test("a write whose history insert fails fails the whole transaction at its commit: nothing of it is committed", async () => {
  const store = await openStore();
  const task = await createIn(store, "PENDING");
  const other = newTask();
  const error = await rejection(
    store.transaction(async (tx) => {
      await tx.createTask(other, createEvent());
      // The row is written; its history row waits for the commit, where the trigger refuses it.
      expect((await tx.transition(task.id, ["PENDING"], { status: "RUNNING" }, refused))?.status).toBe(
        "RUNNING",
      );
      return "went on";
    }),
  );
  expect(String(error)).toContain("history refused");
  expect((await store.getTask(task.id))?.status).toBe("PENDING");
  expect(await allEvents(store, task.id)).toHaveLength(1);
  expect(await store.getTask(other.id)).toBeUndefined();
  // The connection is free again, and the next transaction commits.
  await store.transaction(async (tx) => {
    await tx.createTask(other, createEvent());
  });
  expect(await store.getTask(other.id)).toBeDefined();
});

test("the same failure inside tx.attempt is undone with the attempt, and the rest commits", async () => {
  const store = await openStore();
  const task = await createIn(store, "PENDING");
  const other = newTask();
  await store.transaction(async (tx) => {
    await tx.createTask(other, createEvent());
    await rejection(
      tx.attempt((part) => part.transition(task.id, ["PENDING"], { status: "RUNNING" }, refused)),
    );
  });
  expect((await store.getTask(task.id))?.status).toBe("PENDING");
  expect(await allEvents(store, task.id)).toHaveLength(1);
  expect(await store.getTask(other.id)).toBeDefined();
});

test("a write whose first statement fails has written nothing: fn may catch it and commit the rest", async () => {
  const store = await openStore();
  const existing = await createIn(store, "PENDING");
  const other = newTask();
  await store.transaction(async (tx) => {
    // The same id again: the row insert itself is refused.
    await rejection(tx.createTask({ ...newTask(), id: existing.id }, createEvent()));
    await tx.createTask(other, createEvent());
  });
  expect(await allEvents(store, existing.id)).toHaveLength(1);
  expect(await store.getTask(other.id)).toBeDefined();
});

test("outside a transaction, a write whose history insert fails leaves the row as it was", async () => {
  const store = await openStore();
  const task = await createIn(store, "PENDING");
  await rejection(store.transition(task.id, ["PENDING"], { status: "RUNNING" }, refused));
  expect((await store.getTask(task.id))?.status).toBe("PENDING");
  expect(await allEvents(store, task.id)).toHaveLength(1);
});
