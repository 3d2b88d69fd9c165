/**
 * kiln's public API: what a task author imports (`BaseTask`, `t`, errors, statuses) and what
 * a library user needs to run kiln inside their own app (`TaskManager`, the store).
 */
export { Type as t } from "@sinclair/typebox";
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
  DatabaseInUseError,
  InvalidKeyError,
  type KeyMaterial,
  type RekeyReport,
  rekeyDatabase,
  type SqliteStoreOptions,
  SqliteTaskStore,
  type TaskStore,
} from "./store/index.ts";
export * from "./task/index.ts";
export * from "./webhooks/index.ts";
