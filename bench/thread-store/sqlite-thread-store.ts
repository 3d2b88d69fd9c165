import type { AwaitKind } from "../../src/store/dependency-records.ts";
import type {
  NewTask,
  NewTaskEvent,
  TaskPatch,
  TaskRecord,
  TelemetryBatch,
} from "../../src/store/records.ts";
import type {
  NewSchedule,
  NewScheduleFire,
  SchedulePatch,
  ScheduleRecord,
} from "../../src/store/schedule-records.ts";
import { SqliteSyncStore, type SqliteSyncStoreOptions } from "../../src/store/sqlite.ts";
import { SqliteTaskStore } from "../../src/store/sqlite-store.ts";
import type { DeletedTask } from "../../src/store/store.ts";
import type { TaskWrites } from "../../src/store/task-store.ts";
import type { TaskTypePause } from "../../src/store/task-type-pauses.ts";
import type { TaskStatus } from "../../src/task/index.ts";
import { SqliteWriter } from "./sqlite-writer.ts";
import type { WriterCall } from "./sqlite-writer-calls.ts";

export interface SqliteThreadStoreOptions extends SqliteSyncStoreOptions {
  /** The writer thread's entrypoint (default: sqlite-writer-worker.ts beside this file). */
  writerUrl?: string | URL | undefined;
}

/**
 * An experiment, not a store kiln offers: kiln's SQLite store behind the same port, with its
 * writes on a thread of their own (bench/HISTORY.md, "kiln's own store on a writer thread", has what
 * it measured). It passes the stores' conformance suite (tests/bench/thread-store.test.ts).
 *
 * One connection, on the writer thread, makes every write and every read inside a transaction;
 * the other reads are `SqliteTaskStore`'s own, on the main thread's connection (`file`), which WAL
 * lets run while the writer commits. A call resolves once the writer has made it (a transaction's
 * calls, once it is committed as a whole), so what the engine announces is in the file, as with
 * `SqliteTaskStore`. The main thread is spared the statements and pays instead for sending the
 * calls and reading the answers. Like the PostgreSQL store it `pipelines`: the calls of one
 * transaction made without waiting for one another travel in one message and are answered in one.
 */
export class SqliteThreadStore extends SqliteTaskStore {
  readonly pipelines = true;
  readonly #writer: SqliteWriter;
  /** True while a transaction holds the writer. */
  #busy = false;
  /** Writes and transactions waiting for the writer, first come first served. */
  readonly #waiting: (() => void)[] = [];
  #savepoints = 0;
  readonly #tx: TaskWrites;

  constructor(options: SqliteThreadStoreOptions) {
    if (options.path === ":memory:") {
      throw new Error("a SQLite writer thread needs a file: an in-memory database is its connection's own");
    }
    const { writerUrl, onCheckpointFallback, backgroundCheckpoints: _, ...store } = options;
    // The reader opens (and checks) the file first: a bad path or key fails here, as it would
    // without the thread. It never writes, so it never checkpoints either.
    super(new SqliteSyncStore({ ...store, backgroundCheckpoints: false }));
    this.#writer = new SqliteWriter({
      store,
      url: writerUrl,
      onCheckpointFallback,
      // What the writer reports is committed: the reads after it must see it.
      onAnswer: () => this.file.endReadSnapshot(),
    });
    this.#tx = this.#writes();
  }

  /** Resolves once the writer thread has opened the file (a call made earlier waits for it anyway). */
  get opened(): Promise<void> {
    return this.#writer.opened;
  }

  override migrate(): Promise<void> {
    return this.#call("migrate", []) as Promise<void>;
  }

  override transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
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

  override attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  override createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    return this.#call("createTask", [task, event]) as Promise<TaskRecord>;
  }
  override transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): Promise<TaskRecord | undefined> {
    return this.#call("transition", [id, from, patch, event]) as Promise<TaskRecord | undefined>;
  }
  override updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    return this.#call("updateTask", [id, patch, event]) as Promise<TaskRecord | undefined>;
  }
  override writeTelemetry(batch: TelemetryBatch): Promise<void> {
    return this.#call("writeTelemetry", [batch]) as Promise<void>;
  }
  override deleteTask(id: string): Promise<boolean> {
    return this.#call("deleteTask", [id]) as Promise<boolean>;
  }
  override deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]> {
    return this.#call("deleteEndedBefore", [cutoff, limit]) as Promise<DeletedTask[]>;
  }
  override createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.#call("createSchedule", [schedule]) as Promise<ScheduleRecord>;
  }
  override updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    return this.#call("updateSchedule", [id, patch]) as Promise<ScheduleRecord | undefined>;
  }
  override deleteSchedule(id: string): Promise<boolean> {
    return this.#call("deleteSchedule", [id]) as Promise<boolean>;
  }
  override recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    return this.#call("recordScheduleFire", [fire]) as Promise<boolean>;
  }
  override pauseTaskType(pause: TaskTypePause): Promise<TaskTypePause> {
    return this.#call("pauseTaskType", [pause]) as Promise<TaskTypePause>;
  }
  override resumeTaskType(taskName: string): Promise<boolean> {
    return this.#call("resumeTaskType", [taskName]) as Promise<boolean>;
  }
  override addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): Promise<void> {
    return this.#call("addAwaited", [taskId, kind, ids]) as Promise<void>;
  }

  /** Waits for the writes under way, closes the writer (its last checkpoint), then the reader. */
  override async close(): Promise<void> {
    if (this.#busy) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      await this.#writer.close();
    } finally {
      this.file.endReadSnapshot();
      this.file.close();
    }
  }

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
