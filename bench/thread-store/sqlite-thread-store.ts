import type {
  AwaitedState,
  AwaitKind,
  ChildrenSummary,
  TaskTreeReads,
  TaskWithTree,
} from "../../src/store/dependency-records.ts";
import type { DurabilitySettings } from "../../src/store/durability.ts";
import type { RateStart } from "../../src/store/rate-window.ts";
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
} from "../../src/store/records.ts";
import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "../../src/store/schedule-records.ts";
import { SqliteSyncStore, type SqliteSyncStoreOptions } from "../../src/store/sqlite.ts";
import { type StorageFault, storageFaultOf } from "../../src/store/storage-fault.ts";
import type { DeletedTask, EndedCount, HistoryQuery } from "../../src/store/store.ts";
import type { TaskStore, TaskWrites } from "../../src/store/task-store.ts";
import type { TaskTypePause } from "../../src/store/task-type-pauses.ts";
import type { TaskStatus } from "../../src/task/index.ts";
import { SqliteWriter } from "./sqlite-writer.ts";
import type { WriterCall } from "./sqlite-writer-calls.ts";

/** Runs a synchronous call now, as a promise already settled with its value or its throw. */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

export interface SqliteThreadStoreOptions extends SqliteSyncStoreOptions {
  /** The writer thread's entrypoint (a compiled binary names its own copy). */
  writerUrl?: string | URL | undefined;
}

/**
 * An experiment, not a store kiln offers: kiln's SQLite store behind the same port, with its
 * writes on a thread of their own (BENCHMARKS.md, "kiln's store on a writer thread", has what it
 * measured). It passes the stores' conformance suite (tests/bench/thread-store.test.ts).
 *
 * The SQLite store with its writes on a thread of their own. One connection, on the writer
 * thread, makes every write and every read inside a transaction; the main thread keeps a
 * connection of its own for the other reads, which WAL lets run while the writer commits. A
 * call resolves once the writer has made it (a transaction's calls, once it is committed as a
 * whole), so what the engine announces is in the file, as with `SqliteTaskStore`; what the main
 * thread saves is the statements' time, which under a busy API is most of its own.
 *
 * Like the PostgreSQL store it `pipelines`: the calls of one transaction made without waiting
 * for one another travel in one message and are answered in one.
 */
export class SqliteThreadStore implements TaskStore {
  readonly dialect = "sqlite" as const;
  readonly pipelines = true;
  readonly location: string;
  /** The main thread's connection: reads only. */
  readonly reader: SqliteSyncStore;
  readonly #writer: SqliteWriter;
  /** True while a transaction holds the writer. */
  #busy = false;
  /** Writes and transactions waiting for the writer, first come first served. */
  readonly #waiting: (() => void)[] = [];
  #savepoints = 0;
  /** True while an end of the turn's read snapshot is scheduled (see `#read`). */
  #snapshotEnds = false;
  readonly #tx: TaskWrites;

  constructor(options: SqliteThreadStoreOptions) {
    if (options.path === ":memory:")
      throw new Error("a SQLite writer thread needs a file: an in-memory database is the connection's own");
    const { writerUrl, onCheckpointFallback, backgroundCheckpoints: _, ...store } = options;
    // The reader opens (and checks) the file first: a bad path or key fails here, as it would
    // without the thread. It never writes, so it never checkpoints either.
    this.reader = new SqliteSyncStore({ ...store, backgroundCheckpoints: false });
    this.location = this.reader.path;
    this.#writer = new SqliteWriter({
      store,
      url: writerUrl,
      onCheckpointFallback,
      // What the writer reports is committed: the reads after it must see it.
      onAnswer: this.#endSnapshot,
    });
    this.#tx = this.#writes();
  }

  /** Resolves once the writer thread has opened the file (a call made earlier waits for it anyway). */
  get opened(): Promise<void> {
    return this.#writer.opened;
  }

  /** journal_mode and synchronous as the connections report them (both are opened alike). */
  durabilitySettings(): DurabilitySettings {
    return this.reader.durabilitySettings();
  }

  migrate(): Promise<void> {
    return this.#call("migrate", []) as Promise<void>;
  }

  transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    if (!this.#busy) return this.#run(fn);
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        this.#run(fn).then(resolve, reject);
      });
    });
  }

  async #run<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    this.#busy = true;
    try {
      const begun = this.#writer.call("control", ["begin", "kiln"]);
      // Read after `fn`; until then a failed BEGIN must not count as a rejection nobody handles.
      begun.catch(() => {});
      let result: T;
      try {
        result = await fn(this.#tx);
        // A BEGIN that failed left the calls outside any transaction: nothing of it may commit.
        await begun;
      } catch (error) {
        await this.#writer.call("end", ["rollback"]);
        throw error;
      }
      await this.#writer.call("end", ["commit"]);
      return result;
    } finally {
      this.#busy = false;
      while (!this.#busy && this.#waiting.length > 0) this.#waiting.shift()?.();
    }
  }

  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    return this.#call("createTask", [task, event]) as Promise<TaskRecord>;
  }
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): Promise<TaskRecord | undefined> {
    return this.#call("transition", [id, from, patch, event]) as Promise<TaskRecord | undefined>;
  }
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    return this.#call("updateTask", [id, patch, event]) as Promise<TaskRecord | undefined>;
  }
  writeTelemetry(batch: TelemetryBatch): Promise<void> {
    return this.#call("writeTelemetry", [batch]) as Promise<void>;
  }
  deleteTask(id: string): Promise<boolean> {
    return this.#call("deleteTask", [id]) as Promise<boolean>;
  }
  deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]> {
    return this.#call("deleteEndedBefore", [cutoff, limit]) as Promise<DeletedTask[]>;
  }
  getTask(id: string): Promise<TaskRecord | undefined> {
    return this.#read(() => this.reader.getTask(id));
  }
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.#call("createSchedule", [schedule]) as Promise<ScheduleRecord>;
  }
  updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    return this.#call("updateSchedule", [id, patch]) as Promise<ScheduleRecord | undefined>;
  }
  deleteSchedule(id: string): Promise<boolean> {
    return this.#call("deleteSchedule", [id]) as Promise<boolean>;
  }
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#read(() => this.reader.schedules.getSchedule(id));
  }
  recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    return this.#call("recordScheduleFire", [fire]) as Promise<boolean>;
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#read(() => this.reader.schedules.listSchedules());
  }
  pauseTaskType(pause: TaskTypePause): Promise<TaskTypePause> {
    return this.#call("pauseTaskType", [pause]) as Promise<TaskTypePause>;
  }
  resumeTaskType(taskName: string): Promise<boolean> {
    return this.#call("resumeTaskType", [taskName]) as Promise<boolean>;
  }
  listTaskTypePauses(): Promise<TaskTypePause[]> {
    return this.#read(() => this.reader.schedules.listTaskTypePauses());
  }
  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    return this.#read(() => this.reader.schedules.listScheduleFires(scheduleId, limit));
  }
  listQueuedFires(): Promise<ScheduleFireRecord[]> {
    return this.#read(() => this.reader.schedules.listQueuedFires());
  }
  findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    return this.#read(() => this.reader.findByIdempotencyKey(key));
  }
  idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return this.#read(() => this.reader.idsWithPrefix(prefix, limit));
  }
  listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    return this.#read(() => this.reader.listTasks(query));
  }
  listActive(): Promise<TaskRecord[]> {
    return this.#read(() => this.reader.listActive());
  }
  recentRateStarts(name: string, since: number, perKey: number): Promise<RateStart[]> {
    return this.#read(() => this.reader.recentRateStarts(name, since, perKey));
  }
  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    return this.#read(() => this.reader.listEvents(taskId, query));
  }
  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    return this.#read(() => this.reader.listLogs(taskId, query));
  }
  verifyReadable(): Promise<void> {
    return this.#read(() => this.reader.verifyReadable());
  }
  addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): Promise<void> {
    return this.#call("addAwaited", [taskId, kind, ids]) as Promise<void>;
  }
  awaitedStates(taskId: string, kind: AwaitKind): Promise<AwaitedState[]> {
    return this.#read(() => this.reader.dependencies.awaitedStates(taskId, kind));
  }
  awaitingOn(ids: readonly string[]): Promise<string[]> {
    return this.#read(() => this.reader.dependencies.awaitingOn(ids));
  }
  existingIds(ids: readonly string[]): Promise<string[]> {
    return this.#read(() => this.reader.dependencies.existingIds(ids));
  }
  hasAwaiting(): Promise<boolean> {
    return this.#read(() => this.reader.dependencies.hasAwaiting());
  }
  awaitingToExamine(limit: number): Promise<string[]> {
    return this.#read(() => this.reader.dependencies.awaitingToExamine(limit));
  }
  awaitedIds(taskId: string, kind: AwaitKind): Promise<string[]> {
    return this.#read(() => this.reader.dependencies.awaitedIds(taskId, kind));
  }
  childrenOf(parentId: string, limit: number): Promise<ChildrenSummary> {
    return this.#read(() => this.reader.dependencies.childrenOf(parentId, limit));
  }
  taskTree(taskId: string, childLimit: number): Promise<TaskTreeReads> {
    return this.#read(() => this.reader.dependencies.taskTree(taskId, childLimit));
  }
  taskWithTree(taskId: string, childLimit: number): Promise<TaskWithTree | undefined> {
    return this.#read(() => this.reader.taskWithTree(taskId, childLimit));
  }
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#read(() => this.reader.countByStatus());
  }
  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; status: TaskStatus; name: string }>> {
    return this.#read(() => this.reader.scanStatusAndName(afterId, limit));
  }
  countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]> {
    return this.#read(() => this.reader.countEndedSince(since, bucketMs));
  }
  probeIntegrity(): Promise<void> {
    return this.#read(() => this.reader.probeIntegrity());
  }
  fileProblem(thorough?: boolean): StorageFault | undefined {
    return this.reader.fileProblem(thorough);
  }
  faultOf(error: unknown): StorageFault | undefined {
    return storageFaultOf(error, this.location);
  }

  /** Waits for the writes under way, closes the writer (its last checkpoint), then the reader. */
  async close(): Promise<void> {
    if (this.#busy) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      await this.#writer.close();
    } finally {
      this.#endSnapshot();
      this.reader.close();
    }
  }

  /**
   * Runs a read now on the main thread's connection, in the read snapshot of this event-loop
   * turn (see `SqliteTaskStore`): one read transaction for the turn's reads, ended once the turn
   * is over, or as soon as the writer reports a commit, so that a read never misses a write the
   * engine was told of.
   */
  #read<T>(fn: () => T): Promise<T> {
    if (this.reader.beginReadSnapshot() && !this.#snapshotEnds) {
      this.#snapshotEnds = true;
      setImmediate(this.#endSnapshot);
    }
    return settled(fn);
  }

  readonly #endSnapshot = (): void => {
    this.#snapshotEnds = false;
    this.reader.endReadSnapshot();
  };

  /** Sends a write to the writer now when no transaction holds it, else when its turn comes. */
  #call(call: WriterCall, args: unknown[]): Promise<unknown> {
    if (!this.#busy) return this.#writer.call(call, args);
    return new Promise((resolve, reject) => {
      this.#waiting.push(() => {
        this.#writer.call(call, args).then(resolve, reject);
      });
    });
  }

  /** The `tx` of an open transaction: its calls go to the writer at once, inside it. */
  #writes(): TaskWrites {
    const writer = this.#writer;
    // biome-ignore lint/suspicious/noExplicitAny: the writer answers with what the named call returns; each method below states that type.
    const send = (call: WriterCall, ...args: unknown[]): Promise<any> => writer.call(call, args);
    const tx: TaskWrites = {
      createTask: (task, event) => send("createTask", task, event),
      transition: (id, from, patch, event) => send("transition", id, from, patch, event),
      updateTask: (id, patch, event) => send("updateTask", id, patch, event),
      writeTelemetry: (batch) => send("writeTelemetry", batch),
      deleteTask: (id) => send("deleteTask", id),
      deleteEndedBefore: (cutoff, limit) => send("deleteEndedBefore", cutoff, limit),
      getTask: (id) => send("getTask", id),
      findByIdempotencyKey: (key) => send("findByIdempotencyKey", key),
      createSchedule: (schedule) => send("createSchedule", schedule),
      updateSchedule: (id, patch) => send("updateSchedule", id, patch),
      deleteSchedule: (id) => send("deleteSchedule", id),
      getSchedule: (id) => send("getSchedule", id),
      recordScheduleFire: (fire) => send("recordScheduleFire", fire),
      addAwaited: (taskId, kind, ids) => send("addAwaited", taskId, kind, ids),
      awaitedStates: (taskId, kind) => send("awaitedStates", taskId, kind),
      awaitingOn: (ids) => send("awaitingOn", ids),
      attempt: async <T>(fn: (inner: TaskWrites) => Promise<T>): Promise<T> => {
        const name = `kiln_attempt_${++this.#savepoints}`;
        const opened = send("control", "savepoint", name);
        opened.catch(() => {});
        try {
          const result = await fn(tx);
          await opened;
          await send("control", "release", name);
          return result;
        } catch (error) {
          await send("control", "rollback-to", name);
          await send("control", "release", name);
          throw error;
        }
      },
    };
    return tx;
  }
}
