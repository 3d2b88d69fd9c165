import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { type NewTask, SqliteSyncStore } from "../../src/store/index.ts";
import { WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { newTaskRow, tempDir } from "../helpers.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

function newTask(i: number): NewTask {
  // ~2 KB per row: the WAL fills pages quickly.
  return newTaskRow({
    id: `0000000000000000000000000${String(i).padStart(7, "0")}`,
    taskName: "walk",
    params: { i, filler: "x".repeat(2_000) },
  });
}

/** Writes `n` tasks in small transactions, yielding between them as a busy server would. */
async function writeTasks(store: SqliteSyncStore, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    store.createTask(newTask(i), {
      fromStatus: null,
      toStatus: "PENDING",
      action: "create",
      reason: null,
      actor: null,
      source: null,
    });
    if (i % 50 === 0) await Bun.sleep(2);
  }
}

function walBytes(path: string): number {
  return existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
}

/** A raw connection that never checkpoints on its own. */
function openWriter(path: string): Database {
  const db = new Database(path, { create: true });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0");
  db.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT)");
  return db;
}

/** ~8 MB in small commits, yielding now and then as a busy server does; the WAL's size after. */
async function writeRows(db: Database, path: string): Promise<number> {
  const insert = db.prepare("INSERT INTO rows (body) VALUES (?)");
  for (let i = 0; i < 4_000; i++) {
    insert.run("x".repeat(2_000));
    if (i % 50 === 0) await Bun.sleep(2);
  }
  await Bun.sleep(400);
  insert.run("last");
  return walBytes(path);
}

test("WalCheckpointer: a writer that never checkpoints keeps a bounded WAL only with it running", async () => {
  const dir = tempDir("kiln-wal-");
  dirs.push(dir);
  const alonePath = join(dir.path, "alone.db");
  const alone = openWriter(alonePath);
  const without = await writeRows(alone, alonePath);
  alone.close();
  // Every page written is still in the WAL.
  expect(without).toBeGreaterThan(8 * 1024 * 1024);

  const path = join(dir.path, "checkpointed.db");
  const writer = openWriter(path);
  const failures: string[] = [];
  let restarts = 0;
  const checkpointer = new WalCheckpointer({
    path,
    intervalMs: 50,
    maxFrames: 1_000,
    onRestartWanted: () => {
      restarts++;
      writer.exec("PRAGMA wal_checkpoint(PASSIVE)");
    },
    onFailure: (e) => failures.push(e),
  });
  try {
    const withIt = await writeRows(writer, path);
    expect(withIt).toBeLessThan(without / 2);
  } finally {
    checkpointer.stop();
    writer.close();
  }
  expect(failures).toEqual([]);
  console.log(
    `WAL after ~8 MB of commits: ${without} bytes alone, with the checkpointer less; writer-side checkpoints: ${restarts}`,
  );
}, 60_000);

test("the store checkpoints in the background by default and truncates the WAL on close", async () => {
  const dir = tempDir("kiln-wal-");
  dirs.push(dir);
  const path = join(dir.path, "kiln.db");
  const store = new SqliteSyncStore({ path });
  store.migrate();
  try {
    await writeTasks(store, 0, 4_000);
    await Bun.sleep(500);
    await writeTasks(store, 4_000, 10);
    expect(store.checkpointsInBackground).toBe(true);
    // The rows reached the database file itself while the store was open, though its own
    // connection never checkpoints: the worker copied them there.
    expect(statSync(path).size).toBeGreaterThan(8 * 1024 * 1024);
  } finally {
    store.close();
  }
  // close() ran a TRUNCATE checkpoint after the worker let go of the file.
  expect(walBytes(path)).toBe(0);
}, 60_000);

test("a store opened without background checkpoints keeps SQLite's own", () => {
  const dir = tempDir("kiln-wal-");
  dirs.push(dir);
  const store = new SqliteSyncStore({ path: join(dir.path, "kiln.db"), backgroundCheckpoints: false });
  try {
    expect(store.checkpointsInBackground).toBe(false);
  } finally {
    store.close();
  }
});
