import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  type Logger,
  type PostgresTaskStore,
  RetentionPruner,
  SqliteSyncStore,
  SqliteTaskStore,
  TaskManager,
  type TaskManagerOptions,
  type TaskStatus,
  type TaskStore,
} from "../../src/index.ts";
import { FIXTURE_TASKS, startManager, tempDir, untilStatus } from "../helpers.ts";
import { startServer } from "../http/server.ts";
import { rawClient } from "../store/postgres/database.ts";
import { makeStoreOptions, STORE_KINDS, type StoreKind } from "../stores.ts";

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

const FINAL: TaskStatus[] = ["FINISHED", "FAILED", "STOPPED"];
type Table = "tasks" | "task_events" | "task_logs";

/** A store for one test, with what the test needs to seed it and look under it. */
interface Backing {
  /** What the manager (or startServer) takes to run on this store. */
  options: Partial<TaskManagerOptions>;
  /** A store to prune without a manager. */
  taskStore: () => TaskStore;
  /**
   * Migrates the store and writes `count` tasks that ended two days ago, each with two events
   * and one log line, in one transaction (running 20,000 tasks through workers would only make
   * the test slower, not more real: the pruner reads what the store wrote).
   */
  seedEndedTasks: (count: number) => Promise<void>;
  /** Rows of `table` that belong to each task id. */
  rowsPerTask: (table: "task_events" | "task_logs", ids: string[]) => Promise<number[]>;
  countRows: (table: Table) => Promise<number>;
  /** Fails unless the database is consistent: integrity and foreign keys. */
  expectConsistent: () => Promise<void>;
}

/** The ids and statuses of `count` tasks created and ended at `ended - 1000` and `ended`. */
function endedTasks(count: number, ended: number): { ids: string[]; statuses: TaskStatus[] } {
  const ids: string[] = [];
  const statuses: TaskStatus[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(Bun.randomUUIDv7("hex", ended - 1_000)); // ids are UUIDv7 of the creation time
    statuses.push(FINAL[i % 3] as TaskStatus);
  }
  return { ids, statuses };
}

function sqliteBacking(): Backing {
  const dir = tempDir("kiln-retain-");
  cleanups.push(dir.remove);
  const dbPath = join(dir.path, "kiln.db");
  const read = <T>(fn: (db: Database) => T): T => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    options: { db: dbPath },
    taskStore: () => {
      const store = new SqliteSyncStore({ path: dbPath });
      cleanups.push(() => store.close());
      return new SqliteTaskStore(store);
    },
    seedEndedTasks: async (count) => {
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
      const log = db.prepare(
        "INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, 'info', 'done')",
      );
      const { ids, statuses } = endedTasks(count, ended);
      db.transaction(() => {
        ids.forEach((id, i) => {
          const status = statuses[i] as TaskStatus;
          task.run(id, status, ended, ended - 1_000, ended);
          event.run(id, ended - 1_000, null, "PENDING", "create");
          event.run(id, ended, "RUNNING", status, "finish");
          log.run(id, ended);
        });
      })();
      db.close();
    },
    rowsPerTask: async (table, ids) =>
      read((db) => {
        const count = db.query<{ n: number }, [string]>(
          `SELECT count(*) AS n FROM ${table} WHERE task_id = ?`,
        );
        return ids.map((id) => count.get(id)?.n ?? 0);
      }),
    countRows: async (table) =>
      read((db) => db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0),
    expectConsistent: async () =>
      read((db) => {
        const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get();
        expect(integrity?.integrity_check).toBe("ok");
        const orphans = db
          .query<{ n: number }, []>("SELECT count(*) AS n FROM pragma_foreign_key_check")
          .get();
        expect(orphans?.n).toBe(0);
      }),
  };
}

async function postgresBacking(): Promise<Backing> {
  const opened = await makeStoreOptions("postgres");
  cleanups.push(opened.close);
  const store = opened.options.store as PostgresTaskStore;
  const sql = rawClient(opened.url as string);
  cleanups.push(() => sql.end());
  const count = async (table: Table) =>
    Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM ${sql(table)}`)[0]?.n);
  return {
    options: opened.options,
    taskStore: () => store,
    seedEndedTasks: async (n) => {
      await store.migrate();
      const ended = Date.now() - 2 * 24 * HOUR;
      const { ids, statuses } = endedTasks(n, ended);
      await sql.begin(async (tx) => {
        await tx`
          INSERT INTO tasks (id, task_name, status, params, result, end_time, created_at, updated_at)
          SELECT id, 'echo', status, '{"value":1}'::json, '{"value":1}'::json, ${ended}, ${ended - 1_000}, ${ended}
          FROM unnest(${tx.array(ids)}::text[], ${tx.array(statuses)}::text[]) AS t(id, status)`;
        await tx`
          INSERT INTO task_events (task_id, at, from_status, to_status, action)
          SELECT id, ${ended - 1_000}, NULL, 'PENDING', 'create' FROM unnest(${tx.array(ids)}::text[]) AS t(id)`;
        await tx`
          INSERT INTO task_events (task_id, at, from_status, to_status, action)
          SELECT id, ${ended}, 'RUNNING', status, 'finish'
          FROM unnest(${tx.array(ids)}::text[], ${tx.array(statuses)}::text[]) AS t(id, status)`;
        await tx`
          INSERT INTO task_logs (task_id, at, level, message)
          SELECT id, ${ended}, 'info', 'done' FROM unnest(${tx.array(ids)}::text[]) AS t(id)`;
      });
    },
    rowsPerTask: async (table, ids) => {
      const counts: number[] = [];
      for (const id of ids) {
        const [row] = await sql<
          { n: string }[]
        >`SELECT count(*) AS n FROM ${sql(table)} WHERE task_id = ${id}`;
        counts.push(Number(row?.n));
      }
      return counts;
    },
    countRows: count,
    // PostgreSQL enforces the foreign keys itself; what is left to check is that no history row
    // outlived its task, which a cascade that did not run would leave.
    expectConsistent: async () => {
      for (const table of ["task_events", "task_logs"] as const) {
        const [row] = await sql<{ n: string }[]>`
          SELECT count(*) AS n FROM ${sql(table)} h WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = h.task_id)`;
        expect(Number(row?.n)).toBe(0);
      }
    },
  };
}

const backingFor = (kind: StoreKind): Promise<Backing> =>
  kind === "sqlite" ? Promise.resolve(sqliteBacking()) : postgresBacking();

describe.each(STORE_KINDS)("retention on %s", (kind) => {
  test("only tasks that ended before the cutoff go, with their events and logs; live ones never", async () => {
    const backing = await backingFor(kind);
    const env = await startManager({ ...backing.options, concurrency: 3 });
    cleanups.push(env.close);
    const { manager } = env;
    // Live ones first, with an end time long past: only their status must keep them.
    const running = (await manager.create("steps", { steps: 10_000, delayMs: 10 })).task.id;
    await untilStatus(manager, running, ["RUNNING"]);
    const paused = (await manager.create("echo", { value: 3 }, { paused: true })).task.id;
    const pending = (await manager.create("echo", { value: 4 }, { runAt: Date.now() + HOUR })).task.id;
    for (const id of [running, paused, pending])
      await manager.store.updateTask(id, { endTime: Date.now() - HOUR });

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
    expect((await backing.rowsPerTask("task_logs", [stoppedOld]))[0]).toBeGreaterThan(0);
    expect((await backing.rowsPerTask("task_events", old)).every((n) => n >= 3)).toBe(true);

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
    expect(await backing.rowsPerTask("task_events", old)).toEqual([0, 0, 0]);
    expect(await backing.rowsPerTask("task_logs", old)).toEqual([0, 0, 0]);
    expect((await backing.rowsPerTask("task_events", kept)).every((n) => n > 0)).toBe(true);
    expect(lines.find((line) => line.message === "retention pass")?.fields).toMatchObject({ deleted: 3 });
    await manager.stop(running);
    await untilStatus(manager, running, ["STOPPED"]);
  });

  test("a pass that deletes nothing logs at debug only; one that deletes logs at info", async () => {
    const backing = await backingFor(kind);
    await backing.seedEndedTasks(3);
    const { logger, lines } = recordingLogger();
    const pruner = new RetentionPruner(backing.taskStore(), HOUR, logger);
    expect(await pruner.prune()).toBe(3);
    expect(await pruner.prune()).toBe(0);
    const passes = lines.filter((line) => line.message === "retention pass");
    expect(passes.map((line) => [line.level, line.fields.deleted])).toEqual([
      ["info", 3],
      ["debug", 0],
    ]);
  });

  test("the manager prunes soon after start and then periodically, and stops with it", async () => {
    const backing = await backingFor(kind);
    const { logger, lines, waitFor } = recordingLogger();
    const env = await startManager({
      ...backing.options,
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
    const backing = await backingFor(kind);
    await backing.seedEndedTasks(20_000);
    const { logger, lines, waitFor } = recordingLogger();
    const server = await startServer(
      {
        ...backing.options,
        retainMs: 24 * HOUR,
        retention: { firstPassDelayMs: 300, batchSize: 250 },
        logger,
      },
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
      `prune of 20,000 tasks on ${kind}: ${pass.fields.batches} batches in ${pass.fields.ms} ms; ` +
        `${during.length} GET /tasks/:id answered during it, in ${batchGapsWithAnAnswer} of ${batches.length - 1} gaps between batches`,
    );
    expect(during.length).toBeGreaterThanOrEqual(10);
    expect(batchGapsWithAnAnswer).toBeGreaterThanOrEqual(5);
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(await backing.countRows("tasks")).toBe(1);
    expect(await backing.countRows("task_events")).toBe(
      (await backing.rowsPerTask("task_events", [live]))[0] ?? -1,
    );
    expect(await backing.countRows("task_logs")).toBe(0);
  });

  test("shutdown during a prune ends it after the current batch and leaves a consistent database", async () => {
    const backing = await backingFor(kind);
    await backing.seedEndedTasks(20_000);
    const { logger, waitFor } = recordingLogger();
    const manager = new TaskManager({
      ...backing.options,
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
    expect(await backing.countRows("tasks")).toBe(20_000 - deleted);
    expect(await backing.countRows("task_events")).toBe(2 * (20_000 - deleted));
    expect(await backing.countRows("task_logs")).toBe(20_000 - deleted);
    await backing.expectConsistent();
  });
});
