import type { MisfirePolicy, OverlapPolicy } from "../task/schedule.ts";
import type { ScheduleSource } from "./schema-lists.ts";

/** A schedule row, as the rest of kiln sees it (times are epoch milliseconds). */
export interface ScheduleRecord {
  id: string;
  taskName: string;
  /** Exactly one of `cron` and `everyMs` is set. */
  cron: string | null;
  everyMs: number | null;
  /** The cron expression's time zone; null for an interval. */
  timezone: string | null;
  params: unknown;
  priority: number;
  tags: string[] | null;
  misfire: MisfirePolicy;
  /** Set exactly with misfire "all". */
  backfillMs: number | null;
  overlap: OverlapPolicy;
  paused: boolean;
  source: ScheduleSource;
  /** The first fire time not fired yet; null once the schedule has none left. */
  nextRunAt: number | null;
  /** The latest fire time that created a task. */
  lastRunAt: number | null;
  /** The task the latest fire created. */
  lastTaskId: string | null;
  /** Also an interval's anchor: its fire times are createdAt + k·everyMs. */
  createdAt: number;
  updatedAt: number;
}

export type NewSchedule = Omit<ScheduleRecord, "updatedAt" | "lastRunAt" | "lastTaskId">;

/** The columns an update may change. */
export type SchedulePatch = Partial<
  Pick<
    ScheduleRecord,
    | "cron"
    | "everyMs"
    | "timezone"
    | "params"
    | "priority"
    | "tags"
    | "misfire"
    | "backfillMs"
    | "overlap"
    | "paused"
    | "nextRunAt"
    | "lastRunAt"
    | "lastTaskId"
  >
>;

/** One fire time of a schedule: the task it created, or why none was. */
export interface ScheduleFireRecord {
  id: number;
  scheduleId: string;
  fireTime: number;
  taskId: string | null;
  skipReason: string | null;
  /** Overlap "queue": the task this fire's task waits for. */
  waitsFor: string | null;
  recordedAt: number;
}

export type NewScheduleFire = Omit<ScheduleFireRecord, "id">;
