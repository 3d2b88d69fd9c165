export { BaseTask, isTaskClass, type TaskClass } from "./base.ts";
export type { TaskContext } from "./context.ts";
export {
  coerceError,
  SpawnError,
  type TaskError,
  TaskReleased,
  TaskStopped,
  UnrecoverableError,
} from "./errors.ts";
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
