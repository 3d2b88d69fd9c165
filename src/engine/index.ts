/** Raised by a read of a task whose encrypted values the configured keys cannot open. */
export { type StorageFault, storageFaultOf, UndecryptableValueError } from "../store/index.ts";
export { retryDelayMs } from "./backoff.ts";
export {
  BULK_ACTIONS,
  type BulkAction,
  type BulkFilter,
  type BulkItem,
  type BulkResult,
  type BulkTarget,
  MAX_BULK_TASKS,
} from "./bulk.ts";
export { LATEST_DATE_MS, MAX_PRIORITY, MIN_PRIORITY } from "./create-options.ts";
export type { EndedByStatus, EndedCounts } from "./ended-counts.ts";
export {
  AmbiguousIdError,
  IdempotencyConflictError,
  IllegalTransitionError,
  InvalidOptionError,
  InvalidParamsError,
  KilnError,
  NotAcceptingError,
  type ParamIssue,
  RunEndNotWrittenError,
  StorageUnavailableError,
  TaskNotFoundError,
  UnknownTaskNameError,
} from "./errors.ts";
export type { ManagerEvent, ManagerListener } from "./events.ts";
export { TaskHandle } from "./handle.ts";
export { type ControlAction, type ControlDecision, decideControl } from "./lifecycle.ts";
export { type Logger, silentLogger, stderrLogger } from "./logger.ts";
export { TaskManager } from "./manager.ts";
export type {
  ControlOptions,
  ControlResult,
  CreateOptions,
  CreateResult,
  ManagerStats,
  TaskManagerOptions,
} from "./manager-options.ts";
export type {
  LogEvent,
  LogObserver,
  Observer,
  ProgressEvent,
  ProgressObserver,
  TransitionEvent,
  TransitionObserver,
} from "./observers.ts";
export type { RegisteredTask } from "./registry.ts";
export { contextOf, normalizeContext, parseTraceparent, type Traceparent } from "./request-context.ts";
export { RetentionPruner, type RetentionTuning } from "./retention.ts";
export { GuardedStore } from "./storage-guard.ts";
export { logTaskTransitions } from "./task-log-lines.ts";
export type { Requester } from "./transitions.ts";
