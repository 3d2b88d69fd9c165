// SQLite's reads of a task's page run in one read transaction (SqliteTransactions.read): it
// must end whatever happens inside, so that no later write joins it and waits for an end that
// never comes; inside a transaction already open it joins that one and sees its writes.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { createEvent, newTask } from "./conformance/harness.ts";
import { sqliteStores } from "./sqlite-stores.ts";

const stores = sqliteStores("kiln-read-transaction-");
const openStore = stores.open;

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

test("taskWithTree leaves no transaction open past its turn, found or not, and a write right after it commits on its own", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  expect((await store.taskWithTree(task.id, 10))?.task.id).toBe(task.id);
  await turnEnd();
  expect(store.file.inTransaction).toBe(false);
  expect(await store.taskWithTree(Bun.randomUUIDv7(), 10)).toBeUndefined();
  await turnEnd();
  expect(store.file.inTransaction).toBe(false);
  expect((await store.taskWithTree(task.id, 10))?.task.id).toBe(task.id);
  // In the same turn as the read: the write ends the turn's read snapshot before it writes.
  await store.updateTask(task.id, { statusReason: "seen" });
  expect(store.file.inTransaction).toBe(false);
  // Read back through another connection: the write is committed, not held in a read transaction.
  const other = new Database(store.location, { readonly: true });
  try {
    expect(other.query("SELECT status_reason FROM tasks WHERE id = ?").get(task.id)).toEqual({
      status_reason: "seen",
    });
  } finally {
    other.close();
  }
});

test("a task that spawned nothing and waits on nothing is read in one statement: the tree's reads are not made", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  const dependencies = store.file.dependencies;
  const taskTree = dependencies.taskTree;
  dependencies.taskTree = () => {
    throw new Error("the tree was read");
  };
  try {
    expect(store.file.taskWithTree(task.id, 10)).toEqual({
      task,
      dependsOn: [],
      waitingFor: [],
      children: { total: 0, counts: {}, items: [] },
    });
    expect(store.file.inTransaction).toBe(false);
  } finally {
    dependencies.taskTree = taskTree;
  }
});

test("a read that throws inside the read transaction ends it all the same", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  // A child, so that the tree is read, inside the transaction.
  await store.createTask(newTask({ parentId: task.id }), createEvent());
  const dependencies = store.file.dependencies;
  const taskTree = dependencies.taskTree;
  const failure = new Error("read failed");
  dependencies.taskTree = () => {
    throw failure;
  };
  try {
    expect(() => store.file.taskWithTree(task.id, 10)).toThrow(failure);
    expect(store.file.inTransaction).toBe(false);
  } finally {
    dependencies.taskTree = taskTree;
  }
  expect(store.file.taskWithTree(task.id, 10)?.task.id).toBe(task.id);
});

test("inside a transaction already open, taskWithTree joins it and reads what it wrote", async () => {
  const store = await openStore();
  const task = await store.createTask(newTask(), createEvent());
  await store.transaction(async (tx) => {
    await tx.updateTask(task.id, { statusReason: "inside" });
    expect(store.file.taskWithTree(task.id, 10)?.task.statusReason).toBe("inside");
    expect(store.file.inTransaction).toBe(true);
  });
  expect(store.file.inTransaction).toBe(false);
  expect((await store.getTask(task.id))?.statusReason).toBe("inside");
});
