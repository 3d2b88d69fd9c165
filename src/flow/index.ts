/**
 * Flow control's decisions: rate limits, concurrency per key, dependencies between tasks and
 * fan-in. Pure functions and in-memory accounting, no store and no clock: the engine passes the
 * rows it read and the time, and writes what these decide.
 */
export type { FlowFieldError } from "./declaration-fields.ts";
export {
  checkFlowDeclarations,
  type FlowRules,
  type FlowRulesCheck,
  type TaskKeys,
  type TaskKeysOutcome,
  taskKeysOf,
} from "./declarations.ts";
export {
  checkDependencies,
  DEFAULT_DEPENDENCY_FAILURE_POLICY,
  DEPENDENCY_FAILURE_POLICIES,
  type DependencyDecision,
  type DependencyFailurePolicy,
  type DependencyState,
  type DependsOnCheck,
  decideDependencies,
  dependencyCycles,
  externalDependencyIds,
  MAX_DEPENDENCIES,
  MAX_TASK_ID_LENGTH,
  parseDependencyFailurePolicy,
  parseDependsOn,
  type SubmittedTask,
  waitingReason,
} from "./dependencies.ts";
export {
  type ChildRecord,
  checkWaitFor,
  collectFanIn,
  type FanInState,
  MAX_WAIT_FOR_IDS,
  type WaitForCheck,
  waitingForChildrenReason,
} from "./fan-in.ts";
export { MAX_NAMED_IDS, namedIds } from "./id-list.ts";
export {
  admittedBefore,
  type ConcurrencyCheck,
  type ConcurrencyRule,
  checkConcurrency,
  KeyConcurrency,
  type KeyWaiter,
  keyWaitReason,
  MAX_KEY_CONCURRENCY,
} from "./key-concurrency.ts";
export { computeKey, type KeyOutcome, MAX_KEY_LENGTH, NAME_WIDE_KEY } from "./keys.ts";
export {
  checkRateLimit,
  decideRateLimit,
  MAX_RATE_COUNT,
  MAX_RATE_PER_MS,
  type RateDecision,
  type RateLimitCheck,
  RateLimiter,
  type RateLimitRule,
  rateWaitReason,
} from "./rate-limit.ts";
