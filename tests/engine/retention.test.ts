import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  type Logger,
  RetentionPruner,
  SqliteSyncStore,
  SqliteTaskStore,
  TaskManager,
  type TaskStatus,
} from "../../src/index.ts";
import { FIXTURE_TASKS, startManager, tempDir, untilStatus } from "../helpers.ts";
import { startServer } from "../http/server.ts";

const HOUR = 3_600_000;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
  at: number;
}

/** A logger that keeps every line, with the time it was written. */
function recordingLogger() {
  const lines: LogLine[] = [];
  const record =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields, at: performance.now() });
  const logger: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
  const waitFor = async (message: string, timeoutMs = 60_000, match = (_: LogLine) => true) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find((l) => l.message === message && match(l));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no "${message}" log line within ${timeoutMs} ms`);
      await Bun.sleep(10);
    }
  };
  return { logger, lines, waitFor };
}

/** Rows of `table` that belong to each task id. */
function rowsPerTask(dbPath: string, table: "task_events" | "task_logs", ids: string[]): number[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const count = db.query<{ n: number }, [string]>(`SELECT count(*) AS n FROM ${table} WHERE task_id = ?`);
    return ids.map((id) => count.get(id)?.n ?? 0);
  } finally {
    db.close();
  }
}

const FINAL: TaskStatus[] = ["FINISHED", "FAILED", "STOPPED"];

/**
 * A migrated database holding `count` tasks that ended two days ago, each with two events and
 * one log line, written in one transaction (running 20,000 tasks through workers would only
 * make the test slower, not more real: the pruner reads what the store wrote).
 */
function seedEndedTasks(dbPath: string, count: number): void {
  const store = new SqliteSyncStore({ path: dbPath });
  store.migrate();
  store.close();
  const db = new Database(dbPath);
  const ended = Date.now() - 2 * 24 * HOUR;
  const task = db.prepare(
    "INSERT INTO tasks (id, task_name, status, params, result, end_time, created_at, updated_at) VALUES (?, 'echo', ?, '{\"value\":1}', '{\"value\":1}', ?, ?, ?)",
  );
  const event = db.prepare(
    "INSERT INTO task_events (task_id, at, from_status, to_status, action) VALUES (?, ?, ?, ?, ?)",
  );
  const log = db.prepare("INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, 'info', 'done')");
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = Bun.randomUUIDv7("hex", ended - 1_000); // ids are UUIDv7 of the creation time
      const status = FINAL[i % 3] as TaskStatus;
      task.run(id, status, ended, ended - 1_000, ended);
      event.run(id, ended - 1_000, null, "PENDING", "create");
      event.run(id, ended, "RUNNING", status, "finish");
      log.run(id, ended);
    }
  })();
  db.close();
}

function countRows(dbPath: string, table: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
  } finally {
    db.close();
  }
}

describe("retention", () => {
  test("only tasks that ended before the cutoff go, with their events and logs; live ones never", async () => {
    const env = await startManager({ concurrency: 3 });
    cleanups.push(env.close);
    const { manager } = env;
    // Live ones first, with an end time long past: only their status must keep them.
    const running = (await manager.create("steps", { steps: 10_000, delayMs: 10 })).task.id;
    await untilStatus(manager, running, ["RUNNING"]);
    const paused = (await manager.create("echo", { value: 3 }, { paused: true })).task.id;
    const pending = (await manager.create("echo", { value: 4 }, { runAt: Date.now() + HOUR })).task.id;
    for (const id of [running, paused, pending]) manager.store.updateTask(id, { endTime: Date.now() - HOUR });

    const finishedOld = (await manager.create("echo", { value: 1 })).task.id;
    const failedOld = (await manager.create("fail", { where: "run" })).task.id;
    const stoppedOld = (await manager.create("steps", { steps: 10_000, delayMs: 10 })).task.id;
    // Created before the cutoff but ended after it: kept.
    const endedAfter = (await manager.create("echo", { value: 5 }, { paused: true })).task.id;
    await untilStatus(manager, finishedOld, ["FINISHED"]);
    await untilStatus(manager, failedOld, ["FAILED"]);
    await manager.waitFor(stoppedOld, (task) => (task.progress?.done ?? 0) > 1);
    await manager.stop(stoppedOld);
    await untilStatus(manager, stoppedOld, ["STOPPED"]);
    await Bun.sleep(5);
    const cutoff = Date.now();
    await Bun.sleep(5);
    const finishedRecent = (await manager.create("echo", { value: 2 })).task.id;
    await untilStatus(manager, finishedRecent, ["FINISHED"]);
    await manager.stop(endedAfter);

    const old = [finishedOld, failedOld, stoppedOld];
    const kept = [finishedRecent, endedAfter, running, paused, pending];
    expect(rowsPerTask(env.dbPath, "task_logs", [stoppedOld])[0]).toBeGreaterThan(0);
    expect(rowsPerTask(env.dbPath, "task_events", old).every((n) => n >= 3)).toBe(true);

    const { logger, lines } = recordingLogger();
    // Pruned as if an hour had passed since `cutoff`, with a retention of one hour.
    const deleted = await new RetentionPruner(manager.store, HOUR, logger).prune(cutoff + HOUR);
    expect(deleted).toBe(3);
    for (const id of old) expect(await manager.get(id)).toBeUndefined();
    expect(await Promise.all(kept.map(async (id) => (await manager.get(id))?.status))).toEqual([
      "FINISHED",
      "STOPPED",
      "RUNNING",
      "PAUSED",
      "PENDING",
    ]);
    expect(rowsPerTask(env.dbPath, "task_events", old)).toEqual([0, 0, 0]);
    expect(rowsPerTask(env.dbPath, "task_logs", old)).toEqual([0, 0, 0]);
    expect(rowsPerTask(env.dbPath, "task_events", kept).every((n) => n > 0)).toBe(true);
    expect(lines.find((line) => line.message === "retention pass")?.fields).toMatchObject({ deleted: 3 });
    await manager.stop(running);
    await untilStatus(manager, running, ["STOPPED"]);
  });

  test("a pass that deletes nothing logs at debug only; one that deletes logs at info", async () => {
    const dir = tempDir("kiln-retain-");
    cleanups.push(dir.remove);
    const dbPath = join(dir.path, "kiln.db");
    seedEndedTasks(dbPath, 3);
    const store = new SqliteSyncStore({ path: dbPath });
    cleanups.push(() => store.close());
    const { logger, lines } = recordingLogger();
    const pruner = new RetentionPruner(new SqliteTaskStore(store), HOUR, logger);
    expect(await pruner.prune()).toBe(3);
    expect(await pruner.prune()).toBe(0);
    const passes = lines.filter((line) => line.message === "retention pass");
    expect(passes.map((line) => [line.level, line.fields.deleted])).toEqual([
      ["info", 3],
      ["debug", 0],
    ]);
  });

  test("the manager prunes soon after start and then periodically, and stops with it", async () => {
    const { logger, lines, waitFor } = recordingLogger();
    const env = await startManager({
      retainMs: 300,
      retention: { firstPassDelayMs: 10, intervalMs: 100 },
      logger,
    });
    cleanups.push(env.close);
    const { manager } = env;
    await waitFor("retention pass");
    const id = (await manager.create("echo", { value: 1 })).task.id;
    await untilStatus(manager, id, ["FINISHED"]);
    // Deleted by a later pass, once it has been over for 300 ms.
    await waitFor("retention pass", 20_000, (line) => line.fields.deleted === 1);
    expect(await manager.get(id)).toBeUndefined();
    await manager.shutdown();
    const passes = lines.filter((line) => line.message === "retention pass").length;
    expect(passes).toBeGreaterThanOrEqual(2);
    await Bun.sleep(300);
    expect(lines.filter((line) => line.message === "retention pass").length).toBe(passes);
  });

  test("20,000 ended tasks go in many batches while GET /tasks/:id keeps being answered", async () => {
    const dir = tempDir("kiln-retain-");
    cleanups.push(dir.remove);
    const dbPath = join(dir.path, "kiln.db");
    seedEndedTasks(dbPath, 20_000);
    const { logger, lines, waitFor } = recordingLogger();
    const server = await startServer(
      { db: dbPath, retainMs: 24 * HOUR, retention: { firstPassDelayMs: 300, batchSize: 250 }, logger },
      {},
    );
    cleanups.push(server.stop);
    const live = (await server.manager.create("echo", { value: "kept" }, { paused: true })).task.id;

    const answers: { at: number; status: number }[] = [];
    let passDone = false;
    const client = (async () => {
      while (!passDone) {
        const response = await server.call(`/tasks/${live}`);
        await response.arrayBuffer();
        answers.push({ at: performance.now(), status: response.status });
      }
    })();
    const pass = await waitFor("retention pass", 120_000);
    passDone = true;
    await client;

    const batches = lines.filter((line) => line.message === "retention batch deleted");
    expect(pass.fields).toMatchObject({ deleted: 20_000 });
    expect(pass.fields.batches).toBe(80);
    const first = batches[0]?.at ?? Number.POSITIVE_INFINITY;
    const during = answers.filter((answer) => answer.at > first && answer.at < pass.at);
    // Between two batches the event loop runs: requests are answered all along the prune.
    const batchGapsWithAnAnswer = batches
      .slice(1)
      .filter((batch, i) => during.some((a) => a.at > (batches[i]?.at ?? 0) && a.at < batch.at)).length;
    console.log(
      `prune of 20,000 tasks: ${pass.fields.batches} batches in ${pass.fields.ms} ms; ` +
        `${during.length} GET /tasks/:id answered during it, in ${batchGapsWithAnAnswer} of ${batches.length - 1} gaps between batches`,
    );
    expect(during.length).toBeGreaterThanOrEqual(10);
    expect(batchGapsWithAnAnswer).toBeGreaterThanOrEqual(5);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(countRows(dbPath, "tasks")).toBe(1);
    expect(countRows(dbPath, "task_events")).toBe(rowsPerTask(dbPath, "task_events", [live])[0] ?? -1);
    expect(countRows(dbPath, "task_logs")).toBe(0);
  });

  test("shutdown during a prune ends it after the current batch and leaves a consistent database", async () => {
    const dir = tempDir("kiln-retain-");
    cleanups.push(dir.remove);
    const dbPath = join(dir.path, "kiln.db");
    seedEndedTasks(dbPath, 20_000);
    const { logger, waitFor } = recordingLogger();
    const manager = new TaskManager({
      db: dbPath,
      concurrency: 2,
      logger,
      retainMs: HOUR,
      // A long pause between batches leaves the shutdown a wide window inside the pass, however loaded the machine.
      retention: { firstPassDelayMs: 0, batchSize: 100, pauseMs: 50 },
    });
    await manager.load(FIXTURE_TASKS);
    await manager.start();
    await waitFor("retention batch deleted");
    await manager.shutdown();
    const pass = await waitFor("retention pass", 5_000);
    expect(pass.fields.interrupted).toBe("shutdown");
    const deleted = pass.fields.deleted as number;
    expect(deleted).toBeGreaterThanOrEqual(100);
    expect(deleted).toBeLessThan(20_000);
    expect(deleted % 100).toBe(0);
    expect(countRows(dbPath, "tasks")).toBe(20_000 - deleted);
    expect(countRows(dbPath, "task_events")).toBe(2 * (20_000 - deleted));
    expect(countRows(dbPath, "task_logs")).toBe(20_000 - deleted);
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check).toBe(
        "ok",
      );
      expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM pragma_foreign_key_check").get()?.n).toBe(
        0,
      );
    } finally {
      db.close();
    }
  });
});
