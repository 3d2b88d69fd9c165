// How long each of kiln's store calls takes when nothing else runs, and how regularly the slow
// ones come: SQLite checkpoints its WAL inside the commit that takes it past 1,000 pages, on the
// thread that committed, which in kiln is the main thread.
import { SqliteSyncStore } from "../src/index.ts";
import { writeNoopLifecycle } from "./store-lifecycle.ts";
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
  const store = new SqliteSyncStore({ path: tmp.db });
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
  try {
    for (let i = 0; i < tasks; i++) {
      writeNoopLifecycle(store, Bun.randomUUIDv7(), { each: timed });
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
