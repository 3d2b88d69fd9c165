/** Every status a task can be in. Stored and sent as these exact upper-case names. */
export const TASK_STATUSES = ["PENDING", "RUNNING", "PAUSED", "FINISHED", "FAILED", "STOPPED"] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Named constants so code reads `TaskStatus.RUNNING` while the value stays a plain string. */
export const TaskStatus = {
  PENDING: "PENDING",
  RUNNING: "RUNNING",
  PAUSED: "PAUSED",
  FINISHED: "FINISHED",
  FAILED: "FAILED",
  STOPPED: "STOPPED",
} as const satisfies { [K in TaskStatus]: K };

/** Statuses a task never leaves except through an explicit restart. */
export const FINAL_STATUSES: readonly TaskStatus[] = ["FINISHED", "FAILED", "STOPPED"];

/** Statuses that restore on start-up and that `DELETE` refuses. */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ["PENDING", "RUNNING", "PAUSED"];

export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === "string" && (TASK_STATUSES as readonly string[]).includes(value);
}

/** Control requests that a running task must acknowledge at a checkpoint. */
export const REQUESTED_ACTIONS = ["pause", "stop", "restart"] as const;
export type RequestedAction = (typeof REQUESTED_ACTIONS)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every action a history row may name: a transition (create, start, pause, …), a control request
 * waiting for its checkpoint (pause, stop, restart, and a resume that withdraws a pause), or what
 * start-up did with a task (restore). Both stores' CHECK constraints are built from this list.
 */
export const EVENT_ACTIONS = [
  "create",
  "start",
  "resume",
  "pause",
  "stop",
  "restart",
  "requeue",
  "finish",
  "fail",
  "retry",
  "restore",
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
