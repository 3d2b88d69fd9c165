import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DatabaseInUseError, silentLogger, TaskManager } from "../../src/index.ts";
import { startEngineChild } from "../fixtures/engine-child-process.ts";
import { FIXTURE_TASKS, statusPath, tempDir, untilStatus } from "../helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts the child engine and resolves with the JSON line it prints once its tasks are placed. */
function startChild(dbPath: string, mode: "crash" | "shutdown") {
  return startEngineChild<Record<string, string | string[]>>(dbPath, mode, (kill) => cleanups.push(kill));
}

async function reopen(dbPath: string) {
  const manager = new TaskManager({ db: dbPath, concurrency: 4, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  cleanups.push(() => manager.shutdown());
  return manager;
}

async function countFinishEvents(manager: TaskManager, id: string): Promise<number> {
  return (await manager.events(id, { limit: 500 })).items.filter((e) => e.toStatus === "FINISHED").length;
}

test("after SIGKILL, PAUSED stays PAUSED, RUNNING resumes from its checkpoint, nothing runs twice", async () => {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const dbPath = join(dir.path, "kiln.db");
  const { child, ids } = await startChild(dbPath, "crash");
  child.kill(9);
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");

  // What the crashed process left on disk.
  const before = new Database(dbPath, { readonly: true });
  const savedRunning = (ids.running as string[]).map((id) => {
    const row = before.query("SELECT status, checkpoint FROM tasks WHERE id = ?").get(id) as {
      status: string;
      checkpoint: string;
    };
    expect(row.status).toBe("RUNNING");
    return JSON.parse(row.checkpoint).next as number;
  });
  before.close();
  for (const next of savedRunning) expect(next).toBeGreaterThanOrEqual(10);

  const manager = await reopen(dbPath);
  const paused = await manager.require(ids.paused as string);
  expect(paused.status).toBe("PAUSED");
  const pausedAt = (paused.checkpoint as { next: number }).next;
  expect(pausedAt).toBeGreaterThan(0);

  const results = await Promise.all(
    (ids.running as string[]).map((id) => untilStatus(manager, id, ["FINISHED"], 30_000)),
  );
  for (const [i, task] of results.entries()) {
    const result = task.result as { startedAt: number; ran: number[] };
    // Resumed from the last persisted checkpoint, not from the top.
    expect(result.startedAt).toBe(savedRunning[i] as number);
    expect(result.ran[0]).toBe(savedRunning[i] as number);
    expect(result.ran.at(-1)).toBe(79);
    const requeue = (await manager.events(task.id, { limit: 500 })).items.find((e) => e.action === "requeue");
    expect(requeue?.reason).toContain("interrupted");
  }

  // The paused one is still paused and resumes from its own checkpoint when asked.
  await Bun.sleep(100);
  expect((await manager.require(ids.paused as string)).status).toBe("PAUSED");
  await manager.resume(ids.paused as string);
  const resumed = await untilStatus(manager, ids.paused as string, ["FINISHED"], 30_000);
  expect((resumed.result as { startedAt: number }).startedAt).toBe(pausedAt);

  // The delayed task survived as PENDING with its run_at; the finished one was not run again.
  const delayed = await manager.require(ids.delayed as string);
  expect(delayed.status).toBe("PENDING");
  expect(delayed.runAt).toBeGreaterThan(Date.now());
  expect((await manager.require(ids.finished as string)).status).toBe("FINISHED");
  for (const id of [ids.finished as string, ...(ids.running as string[]), ids.paused as string]) {
    expect(await countFinishEvents(manager, id)).toBe(1);
  }
  expect(await statusPath(manager, ids.finished as string)).toEqual(["PENDING", "RUNNING", "FINISHED"]);

  await manager.shutdown();
  const after = new Database(dbPath, { readonly: true });
  expect((after.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe(
    "ok",
  );
  after.close();
});

test("SIGTERM pauses running tasks at checkpoints; the next start resumes them", async () => {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const dbPath = join(dir.path, "kiln.db");
  const { child, ids } = await startChild(dbPath, "shutdown");
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);

  const manager = new TaskManager({ db: dbPath, concurrency: 4, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  const saved = new Map<string, number>();
  for (const id of ids.running as string[]) {
    const task = await manager.store.getTask(id);
    if (!task) throw new Error(`task ${id} is missing after shutdown`);
    expect(task.status).toBe("PENDING");
    expect(task.statusReason).toContain("shutdown");
    const next = (task.checkpoint as { next: number }).next;
    expect(next).toBeGreaterThan(0);
    saved.set(id, next);
  }
  await manager.start();
  cleanups.push(() => manager.shutdown());
  for (const id of ids.running as string[]) {
    const done = await untilStatus(manager, id, ["FINISHED"], 30_000);
    expect((done.result as { startedAt: number }).startedAt).toBe(saved.get(id) as number);
    expect(await countFinishEvents(manager, id)).toBe(1);
  }
});

describe("one owner per database file", () => {
  test("a second engine on a file a live process owns is refused; the lock dies with the process", async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const dbPath = join(dir.path, "kiln.db");
    const { child } = await startChild(dbPath, "crash");
    expect(() => new TaskManager({ db: dbPath, logger: silentLogger })).toThrow(DatabaseInUseError);
    // The refused engine changed nothing: the owner's tasks are all still there and live.
    const snapshot = new Database(dbPath, { readonly: true });
    const live = snapshot
      .query("SELECT count(*) AS n FROM tasks WHERE status IN ('RUNNING','PAUSED')")
      .get() as {
      n: number;
    };
    snapshot.close();
    expect(live.n).toBeGreaterThan(0);
    child.kill(9);
    await child.exited;
    const manager = await reopen(dbPath);
    expect(manager.started).toBe(true);
  });

  test("within one process too, until the first engine shuts down", async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const dbPath = join(dir.path, "kiln.db");
    const first = new TaskManager({ db: dbPath, logger: silentLogger });
    await first.start();
    let refused: unknown;
    try {
      new TaskManager({ db: dbPath, logger: silentLogger });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DatabaseInUseError);
    expect((refused as Error).message).toContain(dbPath);
    await first.shutdown();
    const second = await reopen(dbPath);
    expect(second.started).toBe(true);
  });
});
