import type { TaskStatus } from "../task/index.ts";
import type {
  AwaitedState,
  AwaitKind,
  ChildrenSummary,
  TaskTreeReads,
  TaskWithTree,
} from "./dependency-records.ts";
import type { RateStart } from "./rate-window.ts";
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
import type { TaskTypePause } from "./task-type-pauses.ts";

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
 * `tx` wait their turn, in the order they came, so they never slip into it by accident.
 */
export class SqliteTaskStore implements TaskStore {
  readonly dialect = "sqlite" as const;
  readonly location: string;
  /** The synchronous store underneath, for what only a file has (durability, checkpoints). */
  readonly file: SqliteSyncStore;
  /** True while a transaction holds the connection. */
  #busy = false;
  /** What waits for the connection (calls, transactions), first come first served. */
  readonly #waiting: (() => void)[] = [];
  #savepoints = 0;
  /** True while an end of the turn's read snapshot is scheduled (see `#read`). */
  #snapshotEnds = false;
  /** The `tx` of every transaction: made once, as one is open at a time. */
  readonly #tx: TaskWrites;

  constructor(options: SqliteSyncStoreOptions | SqliteSyncStore) {
    this.file = options instanceof SqliteSyncStore ? options : new SqliteSyncStore(options);
    this.location = this.file.path;
    this.#tx = this.#writes();
  }

  migrate(): Promise<void> {
    return this.#call(() => this.file.migrate());
  }

  transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    if (!this.#busy) return this.#run(fn);
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        this.#run(fn).then(resolve, reject);
      });
    });
  }

  /**
   * Runs a transaction now: BEGIN, `fn`, and COMMIT (or ROLLBACK) as soon as `fn` settles. No
   * await of its own: each one was a hop of the microtask queue on every commit.
   */
  #run<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    this.#busy = true;
    let body: Promise<T>;
    try {
      this.file.transactionControl("begin");
      body = Promise.resolve(fn(this.#tx));
    } catch (error) {
      return settled(() => {
        this.#end("rollback");
        throw error;
      });
    }
    return body.then(
      (result) => {
        this.#end("commit");
        return result;
      },
      (error: unknown) => {
        this.#end("rollback");
        throw error;
      },
    );
  }

  /** Commits or rolls back the open transaction, and hands the connection on. */
  #end(how: "commit" | "rollback"): void {
    try {
      if (how === "commit") this.file.transactionControl("commit");
      else if (this.file.inTransaction) this.file.transactionControl("rollback");
    } catch (error) {
      // A COMMIT that failed (a full disk) may leave the transaction open: end it, undone.
      if (this.file.inTransaction) this.file.transactionControl("rollback");
      throw error;
    } finally {
      this.#busy = false;
      // What waited runs, in order, until a transaction takes the connection again.
      while (!this.#busy && this.#waiting.length > 0) this.#waiting.shift()?.();
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
    return this.#read(() => this.file.getTask(id));
  }
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.#call(() => this.file.schedules.createSchedule(schedule));
  }
  updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    return this.#call(() => this.file.schedules.updateSchedule(id, patch));
  }
  deleteSchedule(id: string): Promise<boolean> {
    return this.#call(() => this.file.schedules.deleteSchedule(id));
  }
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#read(() => this.file.schedules.getSchedule(id));
  }
  recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    return this.#call(() => this.file.schedules.recordScheduleFire(fire));
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#read(() => this.file.schedules.listSchedules());
  }
  pauseTaskType(pause: TaskTypePause): Promise<TaskTypePause> {
    return this.#call(() => this.file.schedules.pauseTaskType(pause));
  }
  resumeTaskType(taskName: string): Promise<boolean> {
    return this.#call(() => this.file.schedules.resumeTaskType(taskName));
  }
  listTaskTypePauses(): Promise<TaskTypePause[]> {
    return this.#read(() => this.file.schedules.listTaskTypePauses());
  }
  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    return this.#read(() => this.file.schedules.listScheduleFires(scheduleId, limit));
  }
  listQueuedFires(): Promise<ScheduleFireRecord[]> {
    return this.#read(() => this.file.schedules.listQueuedFires());
  }
  findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    return this.#read(() => this.file.findByIdempotencyKey(key));
  }
  idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return this.#read(() => this.file.idsWithPrefix(prefix, limit));
  }
  listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    return this.#read(() => this.file.listTasks(query));
  }
  listActive(): Promise<TaskRecord[]> {
    return this.#read(() => this.file.listActive());
  }
  recentRateStarts(name: string, since: number, perKey: number): Promise<RateStart[]> {
    return this.#read(() => this.file.recentRateStarts(name, since, perKey));
  }
  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    return this.#read(() => this.file.listEvents(taskId, query));
  }
  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    return this.#read(() => this.file.listLogs(taskId, query));
  }
  verifyReadable(): Promise<void> {
    return this.#call(() => this.file.verifyReadable());
  }
  addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): Promise<void> {
    return this.#call(() => this.file.dependencies.addAwaited(taskId, kind, ids));
  }
  awaitedStates(taskId: string, kind: AwaitKind): Promise<AwaitedState[]> {
    return this.#read(() => this.file.dependencies.awaitedStates(taskId, kind));
  }
  awaitingOn(ids: readonly string[]): Promise<string[]> {
    return this.#read(() => this.file.dependencies.awaitingOn(ids));
  }
  existingIds(ids: readonly string[]): Promise<string[]> {
    return this.#read(() => this.file.dependencies.existingIds(ids));
  }
  hasAwaiting(): Promise<boolean> {
    return this.#read(() => this.file.dependencies.hasAwaiting());
  }

  awaitingToExamine(limit: number): Promise<string[]> {
    return this.#read(() => this.file.dependencies.awaitingToExamine(limit));
  }
  awaitedIds(taskId: string, kind: AwaitKind): Promise<string[]> {
    return this.#read(() => this.file.dependencies.awaitedIds(taskId, kind));
  }
  childrenOf(parentId: string, limit: number): Promise<ChildrenSummary> {
    return this.#read(() => this.file.dependencies.childrenOf(parentId, limit));
  }
  taskTree(taskId: string, childLimit: number): Promise<TaskTreeReads> {
    return this.#read(() => this.file.dependencies.taskTree(taskId, childLimit));
  }
  taskWithTree(taskId: string, childLimit: number): Promise<TaskWithTree | undefined> {
    return this.#read(() => this.file.taskWithTree(taskId, childLimit));
  }
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#read(() => this.file.countByStatus());
  }
  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; status: TaskStatus; name: string }>> {
    return this.#read(() => this.file.scanStatusAndName(afterId, limit));
  }
  countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]> {
    return this.#read(() => this.file.countEndedSince(since, bucketMs));
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
  close(): Promise<void> {
    return this.#call(() => this.file.close());
  }

  /**
   * Runs a read now, in the read snapshot of this event-loop turn: the turn's reads share one read
   * transaction, opened by the first and ended once the turn is over (or by the first write).
   * Under load many requests' reads land in one turn, and each read transaction of its own costs
   * two `fcntl` calls on the WAL's shared-memory index, more than the lookup itself. Every read
   * sees every commit of this connection, the only writer: a write ends the snapshot before it runs.
   */
  #read<T>(fn: () => T): Promise<T> {
    if (this.#busy) return this.#call(fn);
    if (this.file.beginReadSnapshot() && !this.#snapshotEnds) {
      this.#snapshotEnds = true;
      setImmediate(this.#endSnapshot);
    }
    return settled(fn);
  }

  readonly #endSnapshot = (): void => {
    this.#snapshotEnds = false;
    this.file.endReadSnapshot();
  };

  /**
   * Runs `fn` now when no transaction holds the connection, else when its turn comes; the turn's
   * read snapshot is ended first, so that what `fn` writes commits as it returns.
   */
  #call<T>(fn: () => T): Promise<T> {
    if (!this.#busy) {
      this.file.endReadSnapshot();
      return settled(fn);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        settled(fn).then(resolve, reject);
      });
    });
  }

  /**
   * The `tx` of an open transaction: its calls run at once, inside it. The calls every task
   * makes settle without a closure of their own.
   */
  #writes(): TaskWrites {
    const file = this.file;
    const tx: TaskWrites = {
      createTask: (task, event) => {
        try {
          return Promise.resolve(file.createTask(task, event));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      transition: (id, from, patch, event) => {
        try {
          return Promise.resolve(file.transition(id, from, patch, event));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      updateTask: (id, patch, event) => settled(() => file.updateTask(id, patch, event)),
      writeTelemetry: (batch) => settled(() => file.writeTelemetry(batch)),
      deleteTask: (id) => settled(() => file.deleteTask(id)),
      deleteEndedBefore: (cutoff, limit) => settled(() => file.deleteEndedBefore(cutoff, limit)),
      getTask: (id) => {
        try {
          return Promise.resolve(file.getTask(id));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      findByIdempotencyKey: (key) => settled(() => file.findByIdempotencyKey(key)),
      createSchedule: (schedule) => settled(() => file.schedules.createSchedule(schedule)),
      updateSchedule: (id, patch) => settled(() => file.schedules.updateSchedule(id, patch)),
      deleteSchedule: (id) => settled(() => file.schedules.deleteSchedule(id)),
      getSchedule: (id) => settled(() => file.schedules.getSchedule(id)),
      recordScheduleFire: (fire) => settled(() => file.schedules.recordScheduleFire(fire)),
      addAwaited: (taskId, kind, ids) => settled(() => file.dependencies.addAwaited(taskId, kind, ids)),
      awaitedStates: (taskId, kind) => settled(() => file.dependencies.awaitedStates(taskId, kind)),
      awaitingOn: (ids) => settled(() => file.dependencies.awaitingOn(ids)),
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
