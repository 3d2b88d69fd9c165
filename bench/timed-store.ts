// A wrapper of the synchronous SQLite store under a SqliteTaskStore that adds up the time the
// engine spends in each of its methods (transaction control, so commits, included).
import type { SqliteSyncStore } from "../src/index.ts";
import { round } from "./util.ts";

export interface StoreTimings {
  /** Calls and total milliseconds per method. */
  byMethod: Record<string, { calls: number; ms: number }>;
  totalMs: number;
}

export function timedStore(store: SqliteSyncStore): {
  store: SqliteSyncStore;
  timings(): StoreTimings;
  reset(): void;
} {
  let byMethod = new Map<string, { calls: number; ms: number }>();
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function" || typeof property !== "string") return value;
      // A batch only groups the calls inside it, which are timed one by one.
      if (property === "batch") return value.bind(target);
      return (...args: unknown[]) => {
        const start = performance.now();
        try {
          return value.apply(target, args);
        } finally {
          const entry = byMethod.get(property) ?? { calls: 0, ms: 0 };
          entry.calls++;
          entry.ms += performance.now() - start;
          byMethod.set(property, entry);
        }
      };
    },
  });
  return {
    store: proxy,
    timings() {
      const out: StoreTimings["byMethod"] = {};
      let totalMs = 0;
      for (const [name, { calls, ms }] of byMethod) {
        out[name] = { calls, ms: round(ms, 1) };
        totalMs += ms;
      }
      return { byMethod: out, totalMs: round(totalMs, 1) };
    },
    reset() {
      byMethod = new Map();
    },
  };
}
