/**
 * A PATCH of a schedule's timing and policies, applied to what is stored, so that the result can
 * be checked as a whole with `checkScheduleSpec`:
 *
 * - `cron` replaces `everyMs`, and `everyMs` replaces `cron` and its time zone (giving both is
 *   left for the check to refuse);
 * - `timezone: null` and `backfillMs: null` remove the field (UTC; no window);
 * - moving `misfire` away from `"all"` drops the stored `backfillMs`, which only `"all"` uses.
 *
 * The other fields of a PATCH (params, priority, tags, paused) replace their stored values and
 * need no merging.
 */
import type { ScheduleSpec, ScheduleSpecInput } from "./spec.ts";

export interface ScheduleSpecPatch {
  cron?: string;
  everyMs?: number;
  timezone?: string | null;
  misfire?: ScheduleSpecInput["misfire"];
  backfillMs?: number | null;
  overlap?: ScheduleSpecInput["overlap"];
}

export function applySchedulePatch(current: ScheduleSpec, patch: ScheduleSpecPatch): ScheduleSpecInput {
  const merged: ScheduleSpecInput =
    current.cron !== undefined
      ? { cron: current.cron, timezone: current.timezone, misfire: current.misfire, overlap: current.overlap }
      : { everyMs: current.everyMs, misfire: current.misfire, overlap: current.overlap };
  if (current.backfillMs !== null) merged.backfillMs = current.backfillMs;

  if (patch.cron !== undefined) {
    merged.cron = patch.cron;
    if (patch.everyMs === undefined) delete merged.everyMs;
  }
  if (patch.everyMs !== undefined) {
    merged.everyMs = patch.everyMs;
    if (patch.cron === undefined) delete merged.cron;
    delete merged.timezone;
  }
  if (patch.timezone === null) delete merged.timezone;
  else if (patch.timezone !== undefined) merged.timezone = patch.timezone;

  if (patch.misfire !== undefined) {
    merged.misfire = patch.misfire;
    if (patch.misfire !== "all" && patch.backfillMs === undefined) delete merged.backfillMs;
  }
  if (patch.backfillMs === null) delete merged.backfillMs;
  else if (patch.backfillMs !== undefined) merged.backfillMs = patch.backfillMs;
  if (patch.overlap !== undefined) merged.overlap = patch.overlap;
  return merged;
}
