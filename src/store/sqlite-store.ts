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
import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "./schedule-records.ts";
import { SqliteSyncStore, type SqliteSyncStoreOptions } from "./sqlite.ts";
import { type StorageFault, storageFaultOf } from "./storage-fault.ts";
import type { DeletedTask, EndedCount, HistoryQuery } from "./store.ts";
import type { TaskStore, TaskWrites } from "./task-store.ts";

/** Runs a synchronous call now, as a promise already settled with its value or its throw. */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The SQLite store on the asynchronous port. bun:sqlite answers synchronously, so a call made
 * while no transaction is open runs at once and resolves already settled. A `transaction()`
 * holds the file's one connection across its awaits: calls made meanwhile by anyone but its
 * `tx` wait their turn, so they never slip into it by accident.
 */
export class SqliteTaskStore implements TaskStore {
  readonly dialect = "sqlite" as const;
  readonly location: string;
  /** The synchronous store underneath, for what only a file has (durability, checkpoints). */
  readonly file: SqliteSyncStore;
  /** Transactions open or waiting for the connection. */
  #open = 0;
  /** Settles when the last transaction queued so far has ended. */
  #queue: Promise<void> = Promise.resolve();
  #savepoints = 0;

  constructor(options: SqliteSyncStoreOptions | SqliteSyncStore) {
    this.file = options instanceof SqliteSyncStore ? options : new SqliteSyncStore(options);
    this.location = this.file.path;
  }

  migrate(): Promise<void> {
    return this.#call(() => this.file.migrate());
  }

  async transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    this.#open++;
    const before = this.#queue;
    let done!: () => void;
    this.#queue = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await before;
      this.file.transactionControl("begin");
      let result: T;
      try {
        result = await fn(this.#writes());
      } catch (error) {
        if (this.file.inTransaction) this.file.transactionControl("rollback");
        throw error;
      }
      try {
        this.file.transactionControl("commit");
      } catch (error) {
        // A COMMIT that failed (a full disk) may leave the transaction open: end it, undone.
        if (this.file.inTransaction) this.file.transactionControl("rollback");
        throw error;
      }
      return result;
    } finally {
      this.#open--;
      done();
    }
  }

  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    return this.#call(() => this.file.createTask(task, event));
  }
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): Promise<TaskRecord | undefined> {
    return this.#call(() => this.file.transition(id, from, patch, event));
  }
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    return this.#call(() => this.file.updateTask(id, patch, event));
  }
  writeTelemetry(batch: TelemetryBatch): Promise<void> {
    return this.#call(() => this.file.writeTelemetry(batch));
  }
  deleteTask(id: string): Promise<boolean> {
    return this.#call(() => this.file.deleteTask(id));
  }
  deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]> {
    return this.#call(() => this.file.deleteEndedBefore(cutoff, limit));
  }
  getTask(id: string): Promise<TaskRecord | undefined> {
    return this.#call(() => this.file.getTask(id));
  }
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.#call(() => this.file.createSchedule(schedule));
  }
  updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    return this.#call(() => this.file.updateSchedule(id, patch));
  }
  deleteSchedule(id: string): Promise<boolean> {
    return this.#call(() => this.file.deleteSchedule(id));
  }
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#call(() => this.file.getSchedule(id));
  }
  recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    return this.#call(() => this.file.recordScheduleFire(fire));
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#call(() => this.file.listSchedules());
  }
  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    return this.#call(() => this.file.listScheduleFires(scheduleId, limit));
  }
  listQueuedFires(): Promise<ScheduleFireRecord[]> {
    return this.#call(() => this.file.listQueuedFires());
  }
  findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    return this.#call(() => this.file.findByIdempotencyKey(key));
  }
  idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return this.#call(() => this.file.idsWithPrefix(prefix, limit));
  }
  listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    return this.#call(() => this.file.listTasks(query));
  }
  listActive(): Promise<TaskRecord[]> {
    return this.#call(() => this.file.listActive());
  }
  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    return this.#call(() => this.file.listEvents(taskId, query));
  }
  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    return this.#call(() => this.file.listLogs(taskId, query));
  }
  verifyReadable(): Promise<void> {
    return this.#call(() => this.file.verifyReadable());
  }
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#call(() => this.file.countByStatus());
  }
  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; status: TaskStatus; name: string }>> {
    return this.#call(() => this.file.scanStatusAndName(afterId, limit));
  }
  countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]> {
    return this.#call(() => this.file.countEndedSince(since, bucketMs));
  }
  probeIntegrity(): Promise<void> {
    return this.#call(() => this.file.probeIntegrity());
  }
  fileProblem(thorough?: boolean): StorageFault | undefined {
    return this.file.fileProblem(thorough);
  }
  faultOf(error: unknown): StorageFault | undefined {
    return storageFaultOf(error, this.location);
  }
  async close(): Promise<void> {
    if (this.#open > 0) await this.#queue;
    this.file.close();
  }

  /** Runs `fn` now when no transaction holds the connection, else once they have all ended. */
  #call<T>(fn: () => T): Promise<T> {
    if (this.#open > 0) return this.#queue.then(() => this.#call(fn));
    return settled(fn);
  }

  /** The `tx` of an open transaction: its calls run at once, inside it. */
  #writes(): TaskWrites {
    const file = this.file;
    const tx: TaskWrites = {
      createTask: (task, event) => settled(() => file.createTask(task, event)),
      transition: (id, from, patch, event) => settled(() => file.transition(id, from, patch, event)),
      updateTask: (id, patch, event) => settled(() => file.updateTask(id, patch, event)),
      writeTelemetry: (batch) => settled(() => file.writeTelemetry(batch)),
      deleteTask: (id) => settled(() => file.deleteTask(id)),
      deleteEndedBefore: (cutoff, limit) => settled(() => file.deleteEndedBefore(cutoff, limit)),
      getTask: (id) => settled(() => file.getTask(id)),
      createSchedule: (schedule) => settled(() => file.createSchedule(schedule)),
      updateSchedule: (id, patch) => settled(() => file.updateSchedule(id, patch)),
      deleteSchedule: (id) => settled(() => file.deleteSchedule(id)),
      getSchedule: (id) => settled(() => file.getSchedule(id)),
      recordScheduleFire: (fire) => settled(() => file.recordScheduleFire(fire)),
      attempt: async <T>(fn: (inner: TaskWrites) => Promise<T>): Promise<T> => {
        const name = `kiln_attempt_${++this.#savepoints}`;
        file.transactionControl("savepoint", name);
        try {
          const result = await fn(tx);
          file.transactionControl("release", name);
          return result;
        } catch (error) {
          file.transactionControl("rollback-to", name);
          file.transactionControl("release", name);
          throw error;
        }
      },
    };
    return tx;
  }
}
