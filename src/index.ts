/**
 * kiln's public API: the task SDK (`BaseTask`, `t`, errors, statuses; alone in ./task/index.ts)
 * and what a library user needs to run kiln inside their own app (`TaskManager`, the store).
 */

export type { NodeIdentity } from "./cluster/node-identity.ts";
export type { NodeRecord, NodeStatus } from "./cluster/node-record.ts";
export type { ClusterTuning } from "./cluster/tuning.ts";
export * from "./engine/index.ts";
export type {
  ListTasksQuery,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskProgress,
  TaskRecord,
} from "./store/index.ts";
export {
  checkDatabase,
  DatabaseInUseError,
  DatabaseServerInUseError,
  DURABILITIES,
  type Durability,
  type DurabilitySettings,
  type IntegrityReport,
  InvalidKeyError,
  type KeyMaterial,
  type OpenStoreOptions,
  openStore,
  PostgresTaskStore,
  type PostgresTaskStoreOptions,
  parseStoreLocation,
  type RecoveryReport,
  type RekeyReport,
  recoverDatabase,
  rekeyDatabase,
  SqliteSyncStore,
  type SqliteSyncStoreOptions,
  SqliteTaskStore,
  type StoreDialect,
  type StoreLocation,
  type SyncTaskStore,
  type TaskStore,
  type TaskWrites,
} from "./store/index.ts";
export * from "./task/index.ts";
export * from "./webhooks/index.ts";
