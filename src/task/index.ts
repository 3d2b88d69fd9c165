export { BaseTask, isTaskClass, type TaskClass } from "./base.ts";
export {
  coerceError,
  type TaskError,
  TaskReleased,
  TaskStopped,
  TaskValueError,
  UnrecoverableError,
} from "./errors.ts";
export { DEFAULT_VALUE_LIMITS, type ValueLimits } from "./json-value.ts";
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
