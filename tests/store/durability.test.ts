// The durability setting: "full" makes the store's own connection fsync at each commit
// (PRAGMA synchronous = FULL), "normal" (the default) leaves it at NORMAL; read back from the
// connection that writes, since synchronous is a setting of each connection, not of the file.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { FIXTURE_TASKS, tempDir } from "../helpers.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function dbPath(): string {
  const dir = tempDir("kiln-durability-");
  dirs.push(dir);
  return join(dir.path, "kiln.db");
}

test("a store is WAL with synchronous=NORMAL by default and FULL with durability 'full'", () => {
  const normal = new SqliteSyncStore({ path: dbPath() });
  const explicit = new SqliteSyncStore({ path: dbPath(), durability: "normal" });
  const full = new SqliteSyncStore({ path: dbPath(), durability: "full" });
  try {
    expect(normal.durabilitySettings()).toEqual({ journalMode: "wal", synchronous: "NORMAL" });
    expect(explicit.durabilitySettings()).toEqual({ journalMode: "wal", synchronous: "NORMAL" });
    expect(full.durabilitySettings()).toEqual({ journalMode: "wal", synchronous: "FULL" });
  } finally {
    for (const store of [normal, explicit, full]) store.close();
  }
});

test("TaskManager durability 'full' reaches the connection it writes with, and tasks run on it", async () => {
  const manager = new TaskManager({
    db: dbPath(),
    concurrency: 2,
    durability: "full",
    logger: silentLogger,
  });
  try {
    expect(manager.durabilitySettings()).toEqual({ journalMode: "wal", synchronous: "FULL" });
    await manager.load(FIXTURE_TASKS);
    await manager.start();
    const { task } = await manager.submit("echo", { value: 1 });
    const done = await manager.waitFor(task.id, (t) => t.status === "FINISHED", 15_000);
    expect(done.status).toBe("FINISHED");
  } finally {
    await manager.shutdown();
  }
  const byDefault = new TaskManager({ db: dbPath(), concurrency: 1, logger: silentLogger });
  try {
    expect(byDefault.durabilitySettings()?.synchronous).toBe("NORMAL");
  } finally {
    await byDefault.shutdown();
  }
});

test("durability goes to a store you open yourself, not to the TaskManager", () => {
  const store = new SqliteSyncStore({ path: dbPath() });
  try {
    expect(
      () => new TaskManager({ store: new SqliteTaskStore(store), durability: "full", logger: silentLogger }),
    ).toThrow(/durability goes to the store you opened/);
  } finally {
    store.close();
  }
});
