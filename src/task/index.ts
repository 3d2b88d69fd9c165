export { BaseTask, isTaskClass, type TaskClass } from "./base.ts";
export { coerceError, type TaskError, TaskReleased, TaskStopped, UnrecoverableError } from "./errors.ts";
export { type FileAccess, NO_FILE_ACCESS } from "./file-access.ts";
export { DEFAULT_RETRY, type RetryPolicy, TASK_ISOLATIONS, type TaskIsolation } from "./options.ts";
export { bindRuntime, type TaskOutcome, type TaskRuntime } from "./runtime.ts";
export {
  ACTIVE_STATUSES,
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
