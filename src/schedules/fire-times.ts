/**
 * When a schedule fires. Times are epoch milliseconds; every function is pure (no clock reads).
 *
 * - cron: the times croner gives for the expression in the schedule's time zone (UTC when none),
 *   with the DST rules described in cron-expression.ts. They are whole seconds.
 * - everyMs: `anchorMs + k·everyMs` for k ≥ 1, where the anchor is the schedule's creation
 *   time. The anchor is stored, so a restart (or a second node) computes the same times; the
 *   anchor itself is not a fire time, the first fire is one interval after creation.
 *
 * "After" is strict: `nextFireTime(spec, t)` never returns `t`, so passing the time just fired
 * gives the one after it. No time past the end of year 9999 (the latest date kiln stores) is
 * returned; a schedule with none left answers null.
 */
import { LATEST_DATE_MS } from "../engine/creation/create-options.ts";
import { cronJob } from "./cron-expression.ts";

/** What fire times depend on: a checked `ScheduleSpec` plus, for an interval, its anchor. */
export type FireTimeSpec =
  | { cron: string; timezone?: string | null; everyMs?: never }
  | { everyMs: number; anchorMs: number; cron?: never };

function checkInstant(name: string, value: number): void {
  if (!Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number of epoch ms, got ${value}`);
}

function withinRange(time: number | null): number | null {
  return time !== null && time <= LATEST_DATE_MS ? time : null;
}

/** The first k ≥ 1 with anchor + k·every > after. */
function intervalIndexAfter(spec: { everyMs: number; anchorMs: number }, after: number): number {
  return Math.max(1, Math.floor((after - spec.anchorMs) / spec.everyMs) + 1);
}

/** The first fire time strictly after `after`, or null when there is none. */
export function nextFireTime(spec: FireTimeSpec, after: number): number | null {
  checkInstant("after", after);
  if (spec.cron === undefined) {
    return withinRange(spec.anchorMs + intervalIndexAfter(spec, after) * spec.everyMs);
  }
  const next = cronJob(spec.cron, spec.timezone ?? "UTC").nextRun(new Date(after));
  return withinRange(next ? next.getTime() : null);
}

/** The next `count` fire times strictly after `after`, oldest first (fewer when they run out). */
export function nextFireTimes(spec: FireTimeSpec, after: number, count: number): number[] {
  const times: number[] = [];
  let time: number | null = after;
  while (times.length < count) {
    time = nextFireTime(spec, time);
    if (time === null) break;
    times.push(time);
  }
  return times;
}

/** The latest fire time at or before `at`, or null when there is none (or none after the anchor). */
export function latestFireTimeAtOrBefore(spec: FireTimeSpec, at: number): number | null {
  checkInstant("at", at);
  if (spec.cron === undefined) {
    const k = Math.floor((at - spec.anchorMs) / spec.everyMs);
    return k >= 1 ? withinRange(spec.anchorMs + k * spec.everyMs) : null;
  }
  // croner's reference is exclusive and its times are whole seconds, so `at + 1` includes `at`.
  const [latest] = cronJob(spec.cron, spec.timezone ?? "UTC").previousRuns(1, new Date(at + 1));
  return withinRange(latest ? latest.getTime() : null);
}

/**
 * How many fire times lie in `(after, through]`, counting at most `limit` of them: `exact` is
 * false when the count stopped at the limit. An interval is counted by arithmetic, so exactly;
 * a cron expression one time at a time (about 50-70 µs each), hence the limit.
 */
export function countFireTimes(
  spec: FireTimeSpec,
  after: number,
  through: number,
  limit: number,
): { count: number; exact: boolean } {
  checkInstant("after", after);
  checkInstant("through", through);
  if (through <= after) return { count: 0, exact: true };
  if (spec.cron === undefined) {
    const first = intervalIndexAfter(spec, after);
    const last = Math.floor((Math.min(through, LATEST_DATE_MS) - spec.anchorMs) / spec.everyMs);
    return { count: Math.max(0, last - first + 1), exact: true };
  }
  let count = 0;
  for (
    let time = nextFireTime(spec, after);
    time !== null && time <= through;
    time = nextFireTime(spec, time)
  ) {
    if (count === limit) return { count, exact: false };
    count++;
  }
  return { count, exact: true };
}
