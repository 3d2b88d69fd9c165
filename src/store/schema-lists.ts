import { EVENT_ACTIONS, LOG_LEVELS, REQUESTED_ACTIONS, TASK_STATUSES } from "../task/index.ts";

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
} as const;
