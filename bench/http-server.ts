// Server process of the HTTP scenarios: kiln's HTTP API over a TaskManager with the bench tasks,
// on 127.0.0.1 and an ephemeral port. It runs apart from the load generator so the two do not
// share an event loop. Usage: bun bench/http-server.ts [--concurrency N] [--count-writes] [--writer-thread]
// (--writer-thread: kiln's store with its writes on a thread of their own, bench/thread-store/)
// Prints one JSON line `{"port": N}` once it serves; ends on SIGTERM, SIGINT or when stdin closes
// (the parent went away), removing its temp database.
import { createKilnApp } from "../src/http/index.ts";
import { SqliteSyncStore, SqliteTaskStore, silentLogger, TaskManager } from "../src/index.ts";
import { LagMonitor } from "./lag-monitor.ts";
import { serveUntilStopped } from "./server-lifecycle.ts";
import { SqliteThreadStore } from "./thread-store/sqlite-thread-store.ts";
import { type StoreTimings, timedStore } from "./timed-store.ts";
import { TASKS_URL, tempDir, wallClockMs } from "./util.ts";

/** A route outside kiln's API through which the parent reads this process's CPU time and queue. */
export const USAGE_PATH = "/__bench/usage";
/** The event-loop lag of this process's main thread since the last read (LagSummary); each read resets it. */
export const LAG_PATH = "/__bench/lag";

export interface ServerUsage {
  /** process.cpuUsage() of this process (all threads, workers included), in microseconds. */
  cpuMicros: number;
  running: number;
  queued: number;
  workers: number;
  /** FINISHED rows in the database, with `?count=1` (a count query, kept off polls); else -1. */
  finished: number;
  /** FINISHED transitions seen since start, and the wall clock (`wallClockMs()`) of the last one. */
  finishedEvents: number;
  lastFinishedAt: number;
  /** Progress values written to the database (the engine emits one event per row it wrote). */
  progressRows: number;
  /** Calls to and time in each store method, with --count-writes; null otherwise. */
  store: StoreTimings | null;
}

/** The server's `--concurrency N` (default 2). */
export function concurrencyArg(argv: string[]): number {
  const index = argv.indexOf("--concurrency");
  const value = index >= 0 ? Number(argv[index + 1]) : 2;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--concurrency must be an integer ≥ 1`);
  return value;
}

if (import.meta.main) {
  const tmp = tempDir("http");
  const writerThread = Bun.argv.includes("--writer-thread");
  const store = writerThread ? undefined : new SqliteSyncStore({ path: tmp.db });
  const timed = store && Bun.argv.includes("--count-writes") ? timedStore(store) : undefined;
  const taskStore = store
    ? new SqliteTaskStore(timed?.store ?? store)
    : new SqliteThreadStore({ path: tmp.db });
  const manager = new TaskManager({
    store: taskStore,
    concurrency: concurrencyArg(Bun.argv),
    logger: silentLogger,
  });
  let finishedEvents = 0;
  let lastFinishedAt = 0;
  let progressRows = 0;
  manager.subscribe((event) => {
    if (event.type === "progress") progressRows++;
    else if (event.type === "transition" && event.to === "FINISHED") {
      finishedEvents++;
      lastFinishedAt = wallClockMs();
    }
  });
  await manager.load(TASKS_URL);
  await manager.start();
  const lag = new LagMonitor().start();
  const app = createKilnApp(manager)
    .get(LAG_PATH, () => lag.summary(true))
    .get(USAGE_PATH, async ({ query }): Promise<ServerUsage> => {
      const cpu = process.cpuUsage();
      const stats = manager.stats();
      return {
        cpuMicros: cpu.user + cpu.system,
        running: stats.running,
        queued: stats.queued,
        workers: stats.workers,
        finished: query.count === "1" ? (await taskStore.countByStatus()).FINISHED : -1,
        finishedEvents,
        lastFinishedAt,
        progressRows,
        store: timed?.timings() ?? null,
      };
    })
    .listen({ hostname: "127.0.0.1", port: 0 });

  await serveUntilStopped(app.server?.port, async () => {
    await app.stop();
    await manager.shutdown();
    // The manager closes only a store it opened itself.
    await taskStore.close();
    tmp.cleanup();
  });
}
