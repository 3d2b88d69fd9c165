import type { TaskStore } from "../../store/index.ts";
import { FINAL_STATUSES } from "../../task/index.ts";
import type { ManagerEvent } from "../events.ts";
import type { EndedByStatus, EndedCounts } from "./ended-counts.ts";

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

type FinalStatus = keyof EndedByStatus;
const FINAL = new Set<string>(FINAL_STATUSES);

const none = (): EndedByStatus => ({ FINISHED: 0, FAILED: 0, STOPPED: 0 });

/**
 * The tasks that ended in the last hour, kept in memory per second, for /stats and the
 * dashboard. Counting them in the history on every request read every end of the hour: with a
 * million ends in it, 145 ms of SQLite on the one event loop, per request. Seeded once from the
 * store at start-up, before the engine writes anything (so no end is counted twice or missed),
 * then moved by each committed transition into a final status. Only for an engine alone on its
 * store: other nodes' ends would race the seed, so a node of a cluster reads the store instead.
 * Deleting a task does not take its end back out, as it does from the history.
 */
export class EndedTally {
  /** Second (epoch s) → ends in it, for the last hour and a little more. */
  readonly #seconds = new Map<number, EndedByStatus>();
  #seeded = false;
  #oldest = Number.POSITIVE_INFINITY;

  /** Reads the hour before `now` from the store; after this, `counts` answers from memory. */
  async seed(store: Pick<TaskStore, "countEndedSince">, now: number): Promise<void> {
    // Per second, not per minute: the hour's oldest edge then moves a second at a time.
    for (const row of await store.countEndedSince(now - HOUR_MS, SECOND_MS)) {
      this.#add(row.bucket / SECOND_MS, row.status, row.count);
    }
    this.#seeded = true;
  }

  /** A listener for the manager's events, which it hears only once they are committed. */
  readonly observe = (event: ManagerEvent): void => {
    if (!this.#seeded || event.type !== "transition" || !FINAL.has(event.to)) return;
    this.#add(Math.floor(event.at / SECOND_MS), event.to as FinalStatus, 1);
  };

  /** As `countEnded` reads them from the store; undefined until seeded. */
  counts(minutes: number, now: number): EndedCounts | undefined {
    if (!this.#seeded) return undefined;
    this.#prune(now);
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const firstSecond = Math.ceil((now - HOUR_MS) / SECOND_MS);
    const lastHour = none();
    const buckets = new Map<number, EndedByStatus>();
    for (let i = minutes - 1; i >= 0; i--) buckets.set(current - i * MINUTE_MS, none());
    for (const [second, counts] of this.#seconds) {
      if (second < firstSecond) continue;
      const bucket = buckets.get(Math.floor((second * SECOND_MS) / MINUTE_MS) * MINUTE_MS);
      for (const status of FINAL_STATUSES as readonly FinalStatus[]) {
        lastHour[status] += counts[status];
        if (bucket) bucket[status] += counts[status];
      }
    }
    const perMinute = [...buckets].map(([start, counts]) => ({ start, counts }));
    return { lastHour, perMinute };
  }

  #add(second: number, status: FinalStatus, count: number): void {
    let counts = this.#seconds.get(second);
    if (!counts) {
      counts = none();
      this.#seconds.set(second, counts);
      if (second < this.#oldest) this.#oldest = second;
    }
    counts[status] += count;
  }

  /** Forgets the seconds the hour before `now` has left behind (a minute at a time, not per end). */
  #prune(now: number): void {
    const keepFrom = Math.floor((now - HOUR_MS) / SECOND_MS) - 1;
    if (this.#oldest >= keepFrom - 60) return;
    this.#oldest = Number.POSITIVE_INFINITY;
    for (const second of this.#seconds.keys()) {
      if (second < keepFrom) this.#seconds.delete(second);
      else if (second < this.#oldest) this.#oldest = second;
    }
  }
}
