/** Raised by a read of a task whose encrypted values the configured keys cannot open. */
export { type StorageFault, storageFaultOf, UndecryptableValueError } from "../store/index.ts";
export { GuardedStore } from "./commit/storage-guard.ts";
export { LATEST_DATE_MS, MAX_PRIORITY, MIN_PRIORITY } from "./creation/create-options.ts";
export {
  contextOf,
  normalizeContext,
  parseTraceparent,
  type Traceparent,
} from "./creation/request-context.ts";
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
export {
  BULK_ACTIONS,
  type BulkAction,
  type BulkFilter,
  type BulkItem,
  type BulkResult,
  type BulkTarget,
  MAX_BULK_TASKS,
} from "./lifecycle/bulk.ts";
export { type ControlAction, type ControlDecision, decideControl } from "./lifecycle/lifecycle.ts";
export type { Requester } from "./lifecycle/transitions.ts";
export { type Logger, silentLogger, stderrLogger } from "./logger.ts";
export { TaskManager } from "./manager.ts";
export type {
  ControlOptions,
  ControlResult,
  CreateOptions,
  CreateResult,
  ManagerStats,
  TaskManagerOptions,
  TaskTree,
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
export { retryDelayMs } from "./queue/backoff.ts";
export type { RegisteredTask } from "./registry.ts";
export type { EndedByStatus, EndedCounts } from "./upkeep/ended-counts.ts";
export { RetentionPruner, type RetentionTuning } from "./upkeep/retention.ts";
export { logTaskTransitions } from "./upkeep/task-log-lines.ts";
