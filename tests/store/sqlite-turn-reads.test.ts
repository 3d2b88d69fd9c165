// The async SQLite store's reads of one event-loop turn share one read transaction (its "read
// snapshot"), ended when the turn is over. It must never hold back a write: whatever is written
// in that turn, by a call or by a transaction, is committed when its promise settles, and what
// is read after a write sees it.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import type { SqliteTaskStore } from "../../src/store/index.ts";
import { createEvent, newTask } from "./conformance/harness.ts";
import { sqliteStores } from "./sqlite-stores.ts";

const stores = sqliteStores("kiln-turn-reads-");
const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

/** status_reason of the task as another connection reads it: only what is committed. */
function committedReason(store: SqliteTaskStore, id: string): unknown {
  const other = new Database(store.location, { readonly: true });
  try {
    return other
      .query<{ status_reason: string | null }, [string]>("SELECT status_reason FROM tasks WHERE id = ?")
      .get(id)?.status_reason;
  } finally {
    other.close();
  }
}

test("the reads of one turn share one read transaction, which ends with the turn", async () => {
  const store = await stores.open();
  const a = await store.createTask(newTask(), createEvent());
  const b = await store.createTask(newTask(), createEvent());
  await turnEnd();
  expect(store.file.inTransaction).toBe(false);
  const [readA, readB, page] = await Promise.all([
    store.getTask(a.id),
    store.taskWithTree(b.id, 10),
    store.listTasks({ limit: 10 }),
  ]);
  expect([readA?.id, readB?.task.id]).toEqual([a.id, b.id]);
  expect(page.items.map((task) => task.id).sort()).toEqual([a.id, b.id].sort());
  expect(store.file.inTransaction).toBe(true);
  await turnEnd();
  expect(store.file.inTransaction).toBe(false);
});

test("a write after a read in the same turn is committed when it settles, and later reads see it", async () => {
  const store = await stores.open();
  const task = await store.createTask(newTask(), createEvent());
  await turnEnd();
  expect((await store.getTask(task.id))?.statusReason).toBeNull();
  expect(store.file.inTransaction).toBe(true);
  await store.updateTask(task.id, { statusReason: "written" });
  expect(committedReason(store, task.id)).toBe("written");
  expect((await store.getTask(task.id))?.statusReason).toBe("written");
});

test("a transaction after a read in the same turn opens, commits, and is seen", async () => {
  const store = await stores.open();
  const task = await store.createTask(newTask(), createEvent());
  await turnEnd();
  await store.getTask(task.id);
  await store.transaction(async (tx) => {
    await tx.updateTask(task.id, { statusReason: "in a transaction" });
  });
  expect(store.file.inTransaction).toBe(false);
  expect(committedReason(store, task.id)).toBe("in a transaction");
  expect((await store.getTask(task.id))?.statusReason).toBe("in a transaction");
});

test("a read made while a transaction holds the connection waits for it, outside any snapshot", async () => {
  const store = await stores.open();
  const task = await store.createTask(newTask(), createEvent());
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const held = store.transaction(async (tx) => {
    await tx.updateTask(task.id, { statusReason: "held" });
    await released;
  });
  const read = store.getTask(task.id);
  expect(store.file.inTransaction).toBe(true);
  release();
  await held;
  expect((await read)?.statusReason).toBe("held");
  await turnEnd();
  expect(store.file.inTransaction).toBe(false);
});

test("closing the store in the turn of a read ends the snapshot and closes", async () => {
  const store = await stores.open();
  const task = await store.createTask(newTask(), createEvent());
  await store.getTask(task.id);
  await store.close();
  await turnEnd();
});

test("a write of a single statement, outside any transaction, after a read in the same turn is committed when it settles", async () => {
  const store = await stores.open();
  const waiter = await store.createTask(newTask(), createEvent());
  const awaited = await store.createTask(newTask(), createEvent());
  await turnEnd();
  await store.getTask(waiter.id);
  await store.addAwaited(waiter.id, "dependencies", [awaited.id]);
  const other = new Database(store.location, { readonly: true });
  try {
    expect(
      other.query("SELECT depends_on_id FROM task_dependencies WHERE task_id = ?").all(waiter.id),
    ).toEqual([{ depends_on_id: awaited.id }]);
  } finally {
    other.close();
  }
});
