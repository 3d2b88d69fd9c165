export type {
  ClusterChannel,
  ClusterMessage,
  ClusterStore,
  HeartbeatReply,
  HeldRun,
} from "./cluster-store.ts";
export type {
  AwaitedState,
  AwaitKind,
  ChildrenSummary,
  TaskTreeReads,
  TaskWithTree,
} from "./dependency-records.ts";
export { DURABILITIES, type Durability, type DurabilitySettings } from "./durability.ts";
export { checkDatabase, type IntegrityReport } from "./integrity.ts";
export { DatabaseInUseError, DatabaseOwnerLock } from "./owner-lock.ts";
export {
  MAX_PARAM_DEPTH,
  MAX_PARAM_FIELDS,
  MAX_PARAM_VALUE_LENGTH,
  PARAM_PATH_PATTERN,
  type ParamFilter,
  ParamFiltersUnavailableError,
  searchableParamFields,
} from "./param-fields.ts";
export { DatabaseServerInUseError, type OwnerLockState } from "./postgres/owner-lock.ts";
export {
  type PostgresDurability,
  PostgresTaskStore,
  type PostgresTaskStoreOptions,
} from "./postgres/store.ts";
export type { RateStart } from "./rate-window.ts";
export type {
  ListTasksQuery,
  NewTask,
  NewTaskEvent,
  NewTaskLog,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskPatch,
  TaskProgress,
  TaskRecord,
  TelemetryBatch,
} from "./records.ts";
export { JsonText, UnreadableValue } from "./records.ts";
export { type RecoveryReport, recoverDatabase, type SkippedStretch, type TableRecovery } from "./recover.ts";
export { type RekeyReport, rekeyDatabase } from "./rekey.ts";
export type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "./schedule-records.ts";
export { SCHEDULE_SOURCES, type ScheduleSource } from "./schema-lists.ts";
export { SqliteSyncStore, type SqliteSyncStoreOptions } from "./sqlite.ts";
export { SqliteTaskStore } from "./sqlite-store.ts";
export {
  DatabaseCorruptError,
  describeFault,
  fileFault,
  recoveredPath,
  type StorageFault,
  type StorageFaultCause,
  storageFaultOf,
} from "./storage-fault.ts";
export {
  DEFAULT_PAGE_SIZE,
  type DeletedTask,
  type EndedCount,
  type HistoryQuery,
  MAX_PAGE_SIZE,
  pageSize,
  type SyncTaskStore,
} from "./store.ts";
export {
  type OpenStoreOptions,
  openStore,
  parseStoreLocation,
  redactUrl,
  type StoreLocation,
  UnsupportedStoreLocationError,
} from "./store-location.ts";
export type {
  ClaimRequest,
  FlowClaim,
  FlowClaimRequest,
  RunFence,
  StoreDialect,
  TaskKeyColumns,
  TaskStore,
  TaskWrites,
} from "./task-store.ts";
export type { TaskTypePause } from "./task-type-pauses.ts";
export {
  InvalidKeyError,
  type KeyMaterial,
  keyId,
  parseKey,
  UndecryptableValueError,
  ValueCipher,
  type ValueCipherOptions,
} from "./value-cipher.ts";
