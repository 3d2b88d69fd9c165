/**
 * A schedule a task class declares: `static schedules = [{ cron: "0 3 * * *", timezone:
 * "Europe/Berlin" }] satisfies ScheduleDeclaration[]`. kiln registers each at start-up and
 * creates one task of the class per fire time, with the declaration's params, priority and tags.
 *
 * - `cron`: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, read
 *   in `timezone` (an IANA name, default UTC). Day-of-month and day-of-week match when either
 *   does, as in Vixie cron; `+` before the day-of-week (`0 12 1 * +MON`) requires both.
 * - `everyMs`: a fixed interval of at least 1000 ms, counted from when the schedule was first
 *   registered, so a restart does not shift it. Give exactly one of `cron` and `everyMs`.
 * - `misfire`: what a fire time missed while kiln was down becomes. `"once"` (default): one
 *   catch-up run, for the latest missed time. `"skip"`: none, only future times fire. `"all"`:
 *   every missed time no older than `backfillMs`.
 * - `overlap`: a fire time while the previous task of the schedule is PENDING, RUNNING or
 *   PAUSED. `"allow"` (default): runs anyway. `"skip"`: not created, and the skip recorded.
 *   `"queue"`: created, and it waits for the previous one.
 * - `id`: names the schedule in the API; without one, kiln derives a stable id from the task
 *   name and the expression (see src/schedules/declarations.ts).
 */

/** What a fire time missed while kiln was down becomes. */
export const MISFIRE_POLICIES = ["skip", "once", "all"] as const;
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];

/** What a fire time does while the previous task of the schedule is still active. */
export const OVERLAP_POLICIES = ["allow", "skip", "queue"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

interface ScheduleDeclarationFields {
  /** The schedule's id in the API; derived from the task name and expression when absent. */
  id?: string;
  /** The params of each task it creates, checked against the class's params schema. */
  params?: unknown;
  priority?: number;
  tags?: readonly string[];
  misfire?: MisfirePolicy;
  /** With `misfire: "all"`: how far back missed fire times are still run, in ms. */
  backfillMs?: number;
  overlap?: OverlapPolicy;
  /** Registered paused: it fires only once resumed. */
  paused?: boolean;
}

/** A cron schedule: fires at the times the expression names, in `timezone` (default UTC). */
export interface CronScheduleDeclaration extends ScheduleDeclarationFields {
  cron: string;
  everyMs?: never;
  timezone?: string;
}

/** An interval schedule: fires every `everyMs` ms from when it was first registered. */
export interface IntervalScheduleDeclaration extends ScheduleDeclarationFields {
  everyMs: number;
  cron?: never;
  /** An interval has no wall clock: a time zone is refused. */
  timezone?: never;
}

export type ScheduleDeclaration = CronScheduleDeclaration | IntervalScheduleDeclaration;
