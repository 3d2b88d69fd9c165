import type { EndedCount, TaskStore } from "../../store/index.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

type FinalStatus = EndedCount["status"];

/** How many tasks moved into each final status. */
export type EndedByStatus = Record<FinalStatus, number>;

export interface EndedCounts {
  /** Transitions into a final status in the last 60 minutes (a task restarted and ended again counts twice). */
  lastHour: EndedByStatus;
  /** The same per minute over the last `minutes`, oldest first; the last is the current minute. */
  perMinute: { start: number; counts: EndedByStatus }[];
}

const none = (): EndedByStatus => ({ FINISHED: 0, FAILED: 0, STOPPED: 0 });

/** The tasks that ended in the hour before `now`, in all and per minute over the last `minutes` (1–60). */
export async function countEnded(store: Pick<TaskStore, "countEndedSince">, now: number, minutes: number) {
  const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  // Exactly one hour back: that also covers all of the oldest bucket a caller may ask for.
  const since = now - HOUR_MS;
  const lastHour = none();
  const buckets = new Map<number, EndedByStatus>();
  for (let i = minutes - 1; i >= 0; i--) buckets.set(current - i * MINUTE_MS, none());
  for (const row of await store.countEndedSince(since, MINUTE_MS)) {
    lastHour[row.status] += row.count;
    const bucket = buckets.get(row.bucket);
    if (bucket) bucket[row.status] += row.count;
  }
  const perMinute = [...buckets].map(([start, counts]) => ({ start, counts }));
  return { lastHour, perMinute } satisfies EndedCounts;
}
