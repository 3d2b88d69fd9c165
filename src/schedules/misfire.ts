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
 * `skipped` counts the due times not fired. A cron's due times are counted one by one, so that
 * count stops at MISSED_COUNT_LIMIT (10,000, about half a second of croner's time); `skippedExact`
 * is then false and `skipped` a lower bound. An interval's count is always exact.
 *
 * The new `nextRunAt` is the first fire time after `now` (null when the schedule has none left).
 * A stored `nextRunAt` that is not one of the spec's fire times (the expression changed) still
 * counts as due: it is the time the schedule was promised to fire at.
 */
import type { MisfirePolicy } from "../task/schedule.ts";
import { countFireTimes, type FireTimeSpec, latestFireTimeAtOrBefore, nextFireTime } from "./fire-times.ts";

export const SKIP_GRACE_MS = 1_000;
export const ALL_FIRES_CAP = 1_000;
export const MISSED_COUNT_LIMIT = 10_000;

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

export function decideMisfire(
  spec: MisfireSpec,
  nextRunAt: number | null,
  now: number,
  options: MisfireOptions = {},
): MisfireDecision {
  if (nextRunAt === null || nextRunAt > now) return { fires: [], skipped: 0, skippedExact: true, nextRunAt };
  const graceMs = options.graceMs ?? SKIP_GRACE_MS;
  const later = countFireTimes(spec, nextRunAt, now, MISSED_COUNT_LIMIT);
  const due = 1 + later.count;
  const latestAfter = later.count > 0 ? latestFireTimeAtOrBefore(spec, now) : null;
  const latest = latestAfter !== null && latestAfter > nextRunAt ? latestAfter : nextRunAt;

  let fires: number[];
  if (spec.misfire === "skip") fires = now - latest <= graceMs ? [latest] : [];
  else if (spec.misfire === "once") fires = [latest];
  else {
    const windowMs = Math.max(spec.backfillMs ?? 0, graceMs);
    fires = newestDueTimes(spec, nextRunAt, now, now - windowMs, ALL_FIRES_CAP).reverse();
  }
  return {
    fires,
    skipped: due - fires.length,
    skippedExact: later.exact,
    nextRunAt: nextFireTime(spec, now),
  };
}
