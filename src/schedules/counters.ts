/**
 * What each schedule's firings did since this process started, for /metrics. Kept in memory
 * (Prometheus handles a counter that restarts from zero): the fire history in the database holds
 * the fires and overlap skips but not the due times a misfire policy dropped, and one source for
 * all three keeps them consistent with each other.
 */
import type { FiringOutcome } from "./firing.ts";
import { SKIP_GRACE_MS } from "./misfire.ts";

export interface ScheduleCounts {
  /** Tasks created: at fire times and by triggers. */
  fires: number;
  /** Fire times not fired because the previous task was still live (overlap "skip"). */
  skips: number;
  /** Due times the misfire policy dropped after downtime. */
  misfiresDropped: number;
  /** Fire times fired more than SKIP_GRACE_MS late: catch-up runs after downtime. */
  misfiresCaughtUp: number;
}

const zero = (): ScheduleCounts => ({ fires: 0, skips: 0, misfiresDropped: 0, misfiresCaughtUp: 0 });

export class ScheduleCounters {
  readonly #counts = new Map<string, ScheduleCounts>();

  /** Counts one firing of schedule `id` at `now`. */
  record(id: string, outcome: Pick<FiringOutcome, "created" | "skipped" | "missed">, now: number): void {
    let counts = this.#counts.get(id);
    if (!counts) {
      counts = zero();
      this.#counts.set(id, counts);
    }
    counts.fires += outcome.created.length;
    counts.skips += outcome.skipped;
    counts.misfiresDropped += outcome.missed;
    for (const task of outcome.created) {
      const fireTime = task.scheduleFireTime;
      if (fireTime !== null && now - fireTime > SKIP_GRACE_MS) counts.misfiresCaughtUp += 1;
    }
  }

  /** Drops a deleted schedule's counts: one made again under its id starts from zero. */
  forget(id: string): void {
    this.#counts.delete(id);
  }

  /** The counts of one schedule, zero when it has not fired since the start. */
  get(id: string): ScheduleCounts {
    return { ...(this.#counts.get(id) ?? zero()) };
  }
}
