export { DURABILITIES, type Durability, type DurabilitySettings } from "./durability.ts";
export { DatabaseInUseError, DatabaseOwnerLock } from "./owner-lock.ts";
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
export { type RekeyReport, rekeyDatabase } from "./rekey.ts";
export { type SqliteStoreOptions, SqliteTaskStore } from "./sqlite.ts";
export { type StorageFault, type StorageFaultCause, storageFaultOf } from "./storage-fault.ts";
export {
  DEFAULT_PAGE_SIZE,
  type DeletedTask,
  type HistoryQuery,
  MAX_PAGE_SIZE,
  pageSize,
  type TaskStore,
} from "./store.ts";
export {
  InvalidKeyError,
  type KeyMaterial,
  keyId,
  parseKey,
  UndecryptableValueError,
  ValueCipher,
  type ValueCipherOptions,
} from "./value-cipher.ts";
