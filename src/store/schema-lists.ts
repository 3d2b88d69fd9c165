import { EVENT_ACTIONS, LOG_LEVELS, REQUESTED_ACTIONS, TASK_STATUSES } from "../task/index.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../task/schedule.ts";

/** Where a schedule comes from: a task class's `static schedules`, or the API. */
export const SCHEDULE_SOURCES = ["declared", "api"] as const;
export type ScheduleSource = (typeof SCHEDULE_SOURCES)[number];

/** `'a', 'b', …`: a closed list of kiln's names as SQL string literals (none holds a quote). */
const inList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(", ");

/**
 * The CHECK constraints both dialects' schemas share, built from the task SDK's closed lists so
 * that a status, action or level added there reaches SQLite and PostgreSQL alike (each through a
 * migration of its own).
 */
export const CHECKS = {
  taskStatus: { name: "tasks_status_check", sql: `status IN (${inList(TASK_STATUSES)})` },
  requestedAction: {
    name: "tasks_requested_action_check",
    sql: `requested_action IS NULL OR requested_action IN (${inList(REQUESTED_ACTIONS)})`,
  },
  eventAction: { name: "task_events_action_check", sql: `action IN (${inList(EVENT_ACTIONS)})` },
  logLevel: { name: "task_logs_level_check", sql: `level IN (${inList(LOG_LEVELS)})` },
  scheduleMisfire: { name: "schedules_misfire_check", sql: `misfire IN (${inList(MISFIRE_POLICIES)})` },
  scheduleOverlap: { name: "schedules_overlap_check", sql: `overlap IN (${inList(OVERLAP_POLICIES)})` },
  scheduleSource: { name: "schedules_source_check", sql: `source IN (${inList(SCHEDULE_SOURCES)})` },
  /** Exactly one of cron and every_ms. */
  scheduleTiming: { name: "schedules_timing_check", sql: "(cron IS NULL) <> (every_ms IS NULL)" },
  /** A fire either made a task or says why it did not. */
  fireOutcome: {
    name: "schedule_fires_outcome_check",
    sql: "task_id IS NOT NULL OR skip_reason IS NOT NULL",
  },
} as const;
