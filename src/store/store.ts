import type { TaskStatus } from "../task/index.ts";
import type {
  ListTasksQuery,
  NewTask,
  NewTaskEvent,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskPatch,
  TaskRecord,
  TelemetryBatch,
} from "./records.ts";
import type { StorageFault } from "./storage-fault.ts";

export interface HistoryQuery {
  /** Items with an id greater than this (the previous page's `nextCursor`). */
  after?: number | undefined;
  limit?: number | undefined;
}

/**
 * Everything kiln persists goes through this interface; `src/store/` is the only place with
 * SQL. It is synchronous because SQLite in-process is: every engine decision about a task
 * happens in one turn of the event loop, with nothing able to interleave.
 */
export interface SyncTaskStore {
  /** Applies every migration the database lacks. */
  migrate(): void;
  /**
   * Runs `fn` with all its writes in one transaction (calls inside it join it), committed when
   * `fn` returns and rolled back if it throws. The engine wraps what one worker message causes
   * (a run's end and the next run's start) so they cost one commit, not one each.
   */
  batch<T>(fn: () => T): T;
  /** Inserts a task and its "create" event in one transaction. */
  createTask(task: NewTask, event: NewTaskEvent): TaskRecord;
  getTask(id: string): TaskRecord | undefined;
  findByIdempotencyKey(key: string): TaskRecord | undefined;
  /** Up to `limit` ids that start with `prefix`, in id order: a range read of the primary key. */
  idsWithPrefix(prefix: string, limit: number): string[];
  /** Newest first, keyset-paginated on the id (UUIDv7, so creation order). */
  listTasks(query: ListTasksQuery): Page<TaskRecord, string>;
  /** Tasks in PENDING, RUNNING or PAUSED, oldest first: what start-up restores. */
  listActive(): TaskRecord[];
  /**
   * Moves a task whose status is one of `from`, applying `patch` and appending `event` in one
   * transaction. Returns undefined (and writes nothing) when the guard does not hold, so a
   * late or duplicate message can never move a task backwards.
   */
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): TaskRecord | undefined;
  /** Changes columns without a status change, with an optional event, in one transaction. */
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): TaskRecord | undefined;
  listEvents(taskId: string, query: HistoryQuery): Page<TaskEventRecord, number>;
  listLogs(taskId: string, query: HistoryQuery): Page<TaskLogRecord, number>;
  /** Writes a tick's progress, checkpoints and log lines in one transaction. */
  writeTelemetry(batch: TelemetryBatch): void;
  /** Deletes a task in a final status with its events and logs; false if absent or live. */
  deleteTask(id: string): boolean;
  /**
   * Deletes at most `limit` tasks in FINISHED, FAILED or STOPPED whose end time is before
   * `cutoff` (epoch ms), with their events and logs, in one transaction. Returns what it deleted.
   */
  deleteEndedBefore(cutoff: number, limit: number): DeletedTask[];
  /**
   * Throws `UndecryptableValueError` when the newest tasks or any schedule cannot be read with
   * the keys the store was given (encrypted rows and no key, or a key that is not configured).
   */
  verifyReadable(): void;
  countByStatus(): Record<TaskStatus, number>;
  /**
   * Up to `limit` tasks' id, status and name, in id order, after `afterId` (from the start when
   * null): a full count in small steps, each a quick read of the primary key.
   */
  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Array<{ id: string; status: TaskStatus; name: string }>;
  /**
   * Transitions into FINISHED, FAILED or STOPPED at or after `since` (epoch ms), counted per
   * final status and per `bucketMs`-wide time bucket (`bucket` is the bucket's start).
   */
  countEndedSince(since: number, bucketMs: number): EndedCount[];
  /**
   * Quick checks that the file is whole and undamaged as far as can be told without reading
   * all of it (its header, the first and last pages of every table and index). Throws an
   * error that `storageFaultOf` reads as `corrupt`.
   */
  probeIntegrity?(): void;
  /**
   * For a store on a file: a fault once the file at its path is no longer the one it opened
   * (deleted, or another put in its place), undefined while it is. Cheap enough for every
   * commit; `thorough` also looks the path up now.
   */
  fileProblem?(thorough?: boolean): StorageFault | undefined;
  close(): void;
}

/** A task `deleteEndedBefore` removed: what the engine's counts need to forget it. */
export interface DeletedTask {
  id: string;
  status: TaskStatus;
  name: string;
}

/** One bucket of `countEndedSince`. */
export interface EndedCount {
  bucket: number;
  status: "FINISHED" | "FAILED" | "STOPPED";
  count: number;
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(limit)));
}
