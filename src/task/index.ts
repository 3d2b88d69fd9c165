// The task SDK: everything a task file needs (the package's "./task" entry, and what "kiln" is in
// a task file run by kiln serve or the binary). It must not import the engine, the store or
// Drizzle: every worker thread loads it.
export { type Static, Type as t } from "@sinclair/typebox";
export { BaseTask, isTaskClass, type TaskClass } from "./base.ts";
export type { TaskContext } from "./context.ts";
export {
  coerceError,
  SpawnError,
  type TaskError,
  TaskReleased,
  TaskStopped,
  TaskSuspended,
  TaskValueError,
  UnrecoverableError,
  WaitForError,
} from "./errors.ts";
export { type FileAccess, NO_FILE_ACCESS } from "./file-access.ts";
export type {
  ChildOutcome,
  ConcurrencyDeclaration,
  KeyConcurrencyDeclaration,
  RateLimitDeclaration,
} from "./flow.ts";
export { DEFAULT_VALUE_LIMITS, type ValueLimits } from "./json-value.ts";
export { DEFAULT_RETRY, type RetryPolicy, TASK_ISOLATIONS, type TaskIsolation } from "./options.ts";
export { bindRuntime, type TaskOutcome, type TaskRuntime } from "./runtime.ts";
export {
  type CronScheduleDeclaration,
  type IntervalScheduleDeclaration,
  MISFIRE_POLICIES,
  type MisfirePolicy,
  OVERLAP_POLICIES,
  type OverlapPolicy,
  type ScheduleDeclaration,
} from "./schedule.ts";
export {
  ACTIVE_STATUSES,
  EVENT_ACTIONS,
  type EventAction,
  FINAL_STATUSES,
  isFinalStatus,
  isTaskStatus,
  LOG_LEVELS,
  type LogLevel,
  REQUESTED_ACTIONS,
  type RequestedAction,
  TASK_STATUSES,
  TaskStatus,
} from "./status.ts";
