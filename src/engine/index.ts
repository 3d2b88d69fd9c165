/** Raised by a read of a task whose encrypted values the configured keys cannot open. */
export { type StorageFault, storageFaultOf, UndecryptableValueError } from "../store/index.ts";
export { retryDelayMs } from "./backoff.ts";
export {
  IdempotencyConflictError,
  IllegalTransitionError,
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
export type { RegisteredTask } from "./registry.ts";
export { RetentionPruner, type RetentionTuning } from "./retention.ts";
export { GuardedStore } from "./storage-guard.ts";
export type { Requester } from "./transitions.ts";
