/**
 * What a schedule fires now, given the first fire time it has not fired yet (`nextRunAt`, as
 * stored) and the current time. Pure: the caller passes `now`, so a test controls the clock.
 *
 * The due times are `nextRunAt` and every fire time after it up to `now`, inclusive. Normally
 * there is one, a few ms late; after downtime there are more, and the policy decides:
 *
 * - `skip`: no catch-up. The latest due time fires only when it is at most `graceMs` late
 *   (default SKIP_GRACE_MS, 1 s): a firing loop that wakes at `nextRunAt` is late by ms, and a
 *   loop held up by a GC pause or a slow commit for under a second was not down. Every other due
 *   time is skipped.
 * - `once`: the latest due time fires, however late (one catch-up run; the one closest to now,
 *   whose params and fire time are the most current); the others are skipped.
 * - `all`: every due time no older than `backfillMs` before now fires, oldest first, but at most
 *   ALL_FIRES_CAP (1000) of them, the newest; the rest are skipped. The window is never narrower
 *   than `graceMs`, so a tiny backfillMs does not drop a fire that is merely a few ms late.
 *
 * `skipped` counts the due times not fired. A cron's due times are counted one by one (croner
 * takes 50-70 µs for each), so the count stops after `nextRunAt` and MISSED_COUNT_LIMIT (1000)
 * more: `skippedExact` is then false and `skipped` (1001) a lower bound. That keeps a decision
 * under about 0.15 s on the main thread even for a per-second cron after a day of downtime (the
 * `all` walk back over its 1000 newest times included). An interval's count is always exact.
 *
 * The new `nextRunAt` is the first fire time after `now` (null when the schedule has none left).
 * A stored `nextRunAt` that is not one of the spec's fire times (the expression changed) still
 * counts as due: it is the time the schedule was promised to fire at.
 */
import type { MisfirePolicy } from "../task/schedule.ts";
import { countFireTimes, type FireTimeSpec, latestFireTimeAtOrBefore, nextFireTime } from "./fire-times.ts";

export const SKIP_GRACE_MS = 1_000;
export const ALL_FIRES_CAP = 1_000;
export const MISSED_COUNT_LIMIT = 1_000;

export type MisfireSpec = FireTimeSpec & { misfire: MisfirePolicy; backfillMs?: number | null };

export interface MisfireDecision {
  /** Fire times to create tasks for now, oldest first. */
  fires: number[];
  /** Due times dropped by the policy. */
  skipped: number;
  /** False when `skipped` stopped at MISSED_COUNT_LIMIT and is a lower bound. */
  skippedExact: boolean;
  /** The first fire time not fired after this decision, to store. */
  nextRunAt: number | null;
}

export interface MisfireOptions {
  /** How late a due time may be and still count as on time (`skip`, and `all`'s window). */
  graceMs?: number;
}

/** The due times from the latest back, newest first, at most `cap`, none before `oldest`. */
function newestDueTimes(
  spec: FireTimeSpec,
  nextRunAt: number,
  now: number,
  oldest: number,
  cap: number,
): number[] {
  const times: number[] = [];
  for (
    let time = latestFireTimeAtOrBefore(spec, now);
    time !== null && time > nextRunAt && time >= oldest && times.length < cap;
    time = latestFireTimeAtOrBefore(spec, time - 1)
  ) {
    times.push(time);
  }
  if (nextRunAt >= oldest && times.length < cap) times.push(nextRunAt);
  return times;
}

/** How many due times lie in `[nextRunAt, through]`: nextRunAt itself and the fire times after it. */
function countDue(spec: FireTimeSpec, nextRunAt: number, through: number): { count: number; exact: boolean } {
  if (through < nextRunAt) return { count: 0, exact: true };
  const later = countFireTimes(spec, nextRunAt, through, MISSED_COUNT_LIMIT);
  return { count: 1 + later.count, exact: later.exact };
}

export function decideMisfire(
  spec: MisfireSpec,
  nextRunAt: number | null,
  now: number,
  options: MisfireOptions = {},
): MisfireDecision {
  if (nextRunAt === null || nextRunAt > now) return { fires: [], skipped: 0, skippedExact: true, nextRunAt };
  const graceMs = options.graceMs ?? SKIP_GRACE_MS;
  const next = nextFireTime(spec, now);

  if (spec.misfire === "all") {
    const windowMs = Math.max(spec.backfillMs ?? 0, graceMs);
    const fires = newestDueTimes(spec, nextRunAt, now, now - windowMs, ALL_FIRES_CAP).reverse();
    // The skipped ones are the due times older than the oldest fired (all of them if none is).
    const missed = countDue(spec, nextRunAt, (fires[0] ?? now + 1) - 1);
    return { fires, skipped: missed.count, skippedExact: missed.exact, nextRunAt: next };
  }

  const latestAfter = latestFireTimeAtOrBefore(spec, now);
  const latest = latestAfter !== null && latestAfter > nextRunAt ? latestAfter : nextRunAt;
  const fires = spec.misfire === "once" || now - latest <= graceMs ? [latest] : [];
  const missed = countDue(spec, nextRunAt, fires.length > 0 ? latest - 1 : now);
  return { fires, skipped: missed.count, skippedExact: missed.exact, nextRunAt: next };
}
