/** Between a stored schedule (a row) and the pure functions' specs. */
import type { ScheduleRecord } from "../store/index.ts";
import type { FireTimeSpec } from "./fire-times.ts";
import type { MisfireSpec } from "./misfire.ts";
import type { ScheduleSpec } from "./spec.ts";

/** When a stored schedule fires: an interval counts from its creation. */
export function fireTimeSpecOf(schedule: ScheduleRecord): FireTimeSpec {
  if (schedule.cron !== null) return { cron: schedule.cron, timezone: schedule.timezone };
  return { everyMs: schedule.everyMs as number, anchorMs: schedule.createdAt };
}

export function misfireSpecOf(schedule: ScheduleRecord): MisfireSpec {
  return { ...fireTimeSpecOf(schedule), misfire: schedule.misfire, backfillMs: schedule.backfillMs };
}

/** The checked spec a stored schedule was saved from. */
export function scheduleSpecOf(schedule: ScheduleRecord): ScheduleSpec {
  const policies = { misfire: schedule.misfire, backfillMs: schedule.backfillMs, overlap: schedule.overlap };
  if (schedule.cron !== null) {
    return { cron: schedule.cron, timezone: schedule.timezone ?? "UTC", ...policies };
  }
  return { everyMs: schedule.everyMs as number, ...policies };
}

/** The timing columns of a checked spec. */
export function timingColumns(spec: ScheduleSpec) {
  return {
    cron: spec.cron ?? null,
    everyMs: spec.everyMs ?? null,
    timezone: spec.cron !== undefined ? spec.timezone : null,
    misfire: spec.misfire,
    backfillMs: spec.backfillMs,
    overlap: spec.overlap,
  };
}
