// How long each of kiln's store calls takes when nothing else runs, and how regularly the slow
// ones come: SQLite checkpoints its WAL inside the commit that takes it past 1,000 pages, on the
// thread that committed, which in kiln is the main thread.
import { SqliteTaskStore } from "../src/index.ts";
import { median, round, type Summary, summarize, tempDir } from "./util.ts";

/** A store call slower than this counts as a stall. */
export const STALL_MS = 3;

export interface CommitStalls {
  calls: number;
  latencyMs: Summary;
  stalls: number;
  /** Median number of calls between two stalls. */
  callsBetweenStalls: number | null;
  stallMs: Summary | null;
}

/** `tasks` task lifecycles (create, RUNNING, FINISHED) on a fresh file, each call timed. */
export function commitStalls(tasks: number): CommitStalls {
  const tmp = tempDir("stalls");
  const store = new SqliteTaskStore({ path: tmp.db });
  store.migrate();
  const latencies: number[] = [];
  const stallAt: number[] = [];
  const timed = (call: () => unknown) => {
    const t0 = performance.now();
    call();
    const ms = performance.now() - t0;
    if (ms > STALL_MS) stallAt.push(latencies.length);
    latencies.push(ms);
  };
  const event = (
    from: "PENDING" | "RUNNING" | null,
    to: "PENDING" | "RUNNING" | "FINISHED",
    action: string,
  ) => ({
    fromStatus: from,
    toStatus: to,
    action,
    reason: null,
    actor: "kiln",
  });
  try {
    for (let i = 0; i < tasks; i++) {
      const id = Bun.randomUUIDv7();
      timed(() =>
        store.createTask(
          {
            id,
            taskName: "bench-noop",
            status: "PENDING",
            params: null,
            priority: 0,
            runAt: null,
            idempotencyKey: null,
            tags: null,
          },
          event(null, "PENDING", "create"),
        ),
      );
      const now = Date.now();
      timed(() =>
        store.transition(
          id,
          ["PENDING"],
          {
            status: "RUNNING",
            lastRunTime: now,
            startTime: now,
            statusReason: null,
            runAt: null,
            requestedAction: null,
          },
          event("PENDING", "RUNNING", "start"),
        ),
      );
      timed(() =>
        store.transition(
          id,
          ["RUNNING"],
          {
            status: "FINISHED",
            result: null,
            endTime: Date.now(),
            requestedAction: null,
            statusReason: null,
            error: null,
          },
          event("RUNNING", "FINISHED", "finish"),
        ),
      );
    }
  } finally {
    store.close();
    tmp.cleanup();
  }
  const gaps = stallAt.slice(1).map((at, i) => at - (stallAt[i] ?? 0));
  return {
    calls: latencies.length,
    latencyMs: summarize(latencies),
    stalls: stallAt.length,
    callsBetweenStalls: gaps.length > 0 ? round(median(gaps), 0) : null,
    stallMs: stallAt.length > 0 ? summarize(stallAt.map((i) => latencies[i] ?? 0)) : null,
  };
}
