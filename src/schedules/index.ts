/**
 * Schedules' time-keeping: checking a schedule's fields, when it fires, what it fires after
 * downtime (misfire) and while its previous task runs (overlap). Pure functions, no store and no
 * clock: the firing loop passes the stored state and the time.
 */
export { cronProblem, normalizeCron } from "./cron-expression.ts";
export {
  checkScheduleDeclarations,
  type DeclaredSchedule,
  derivedScheduleId,
  SCHEDULE_ID_PATTERN,
  type ScheduleDeclarationsCheck,
} from "./declarations.ts";
export {
  countFireTimes,
  type FireTimeSpec,
  latestFireTimeAtOrBefore,
  nextFireTime,
  nextFireTimes,
} from "./fire-times.ts";
export {
  ALL_FIRES_CAP,
  decideMisfire,
  MISSED_COUNT_LIMIT,
  type MisfireDecision,
  type MisfireOptions,
  type MisfireSpec,
  SKIP_GRACE_MS,
} from "./misfire.ts";
export { decideOverlap, type OverlapDecision, type PreviousTask } from "./overlap.ts";
export { applySchedulePatch, type ScheduleSpecPatch } from "./patch.ts";
export { CreateScheduleBody, UpdateScheduleBody } from "./schemas.ts";
export {
  type CronScheduleSpec,
  checkScheduleSpec,
  DEFAULT_MISFIRE,
  DEFAULT_OVERLAP,
  DEFAULT_TIMEZONE,
  type IntervalScheduleSpec,
  MAX_BACKFILL_MS,
  MAX_CRON_LENGTH,
  MIN_EVERY_MS,
  type ScheduleFieldError,
  type ScheduleSpec,
  type ScheduleSpecCheck,
  type ScheduleSpecInput,
  timezoneOf,
} from "./spec.ts";
