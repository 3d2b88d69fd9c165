import { TASK_STATUSES, type TaskStatus } from "../../task/index.ts";
import { prefixSuccessor } from "../id-ranges.ts";
import { listTasksSql } from "../list-tasks-sql.ts";
import { ParamFiltersUnavailableError } from "../param-fields.ts";
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
} from "../records.ts";
import { POSTGRES_DIALECT } from "../schedule-rows.ts";
import { rowCodec } from "../sqlite.ts";
import type { StorageFault } from "../storage-fault.ts";
import { type DeletedTask, type EndedCount, type HistoryQuery, pageSize } from "../store.ts";
import { redactUrl } from "../store-location.ts";
import type { SqlValue } from "../task-rows.ts";
import type { RunFence, TaskStore, TaskWrites } from "../task-store.ts";
import { TaskTypePauseSql, taskTypePauseFromRow } from "../task-type-pauses.ts";
import type { KeyMaterial } from "../value-cipher.ts";
import {
  createClient,
  type PostgresClient,
  type PostgresClientOptions,
  type PostgresTransaction,
  type Row,
  run,
} from "./client.ts";
import { PostgresCluster } from "./cluster.ts";
import { PostgresDependencies } from "./dependencies.ts";
import { postgresFaultOf, TransactionStalledError } from "./faults.ts";
import { migrateUnderLock } from "./migrate.ts";
import { type OwnerLockMode, type OwnerLockState, PostgresOwnerLock } from "./owner-lock.ts";
import { PatchSql } from "./patch-sql.ts";
import { PostgresSchedules } from "./schedules.ts";
import { SQL } from "./statements.ts";
import { type ConnectionWatch, PostgresWrites, type WriteContext } from "./writes.ts";

const PAUSE_SQL = new TaskTypePauseSql(POSTGRES_DIALECT);

/**
 * `work`'s outcome, or, once the transaction's connection is lost, a promise that never settles:
 * postgres.js has already rejected the transaction (it watches the connection), and settling
 * would make it write a ROLLBACK or COMMIT onto the closed connection (see ConnectionWatch).
 */
function settleUnlessLost<T>(watch: ConnectionWatch, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    work.then(
      (value) => {
        if (watch.lost === undefined) resolve(value);
      },
      (error: unknown) => {
        if (watch.lost === undefined) reject(error);
      },
    );
  });
}

/** The server settings that decide whether a commit survives a crash. */
export interface PostgresDurability {
  synchronousCommit: string;
  fsync: string;
}

/**
 * How long a transaction may go without settling before its caller is told it failed. kiln's
 * transactions take milliseconds; this is for the one the driver leaves unsettled, which
 * `kiln serve` would otherwise wait on at shutdown until its own deadline made it exit 1.
 */
export const DEFAULT_TRANSACTION_DEADLINE_MS = 10_000;

export interface PostgresTaskStoreOptions extends PostgresClientOptions {
  /** A `postgres://` or `postgresql://` URL. */
  url: string;
  /**
   * A transaction not settled after this long (default 10 s) fails as a lost connection would.
   * postgres.js 3.4.9 can leave a transaction unsettled for ever when the server restarts under
   * it; kiln's commits go one at a time, so one such transaction would stop a node's engine.
   */
  transactionDeadlineMs?: number | undefined;
  /** As SqliteSyncStoreOptions: params, results and checkpoints are then stored encrypted. */
  encryptionKey?: KeyMaterial | undefined;
  /** Former encryption keys, used only to read the rows written with them. */
  decryptionKeys?: readonly KeyMaterial[] | undefined;
}

/**
 * The PostgreSQL store. Each write is one statement (a change and its event through a
 * data-modifying CTE), so a call on the store is one round trip and atomic on its own; a
 * `transaction()` is postgres.js's `begin` on one connection of the pool, and `attempt` in it a
 * savepoint. postgres.js opens a new connection for the next call after one is lost, so a
 * store whose server restarted works again without being reopened.
 */
export class PostgresTaskStore implements TaskStore {
  readonly dialect = "postgres" as const;
  readonly location: string;
  readonly pipelines = true;
  readonly cluster: PostgresCluster;
  readonly #client: PostgresClient;
  readonly #clientOptions: PostgresClientOptions;
  readonly #context: WriteContext;
  readonly #writes: PostgresWrites;
  readonly #transactionDeadlineMs: number;
  #ownerLock: PostgresOwnerLock | undefined;
  #closed = false;

  constructor(options: PostgresTaskStoreOptions) {
    this.location = redactUrl(options.url);
    const codec = rowCodec(options, "json");
    this.#context = { codec, patches: new PatchSql(codec), creates: new Map() };
    this.#clientOptions = { url: options.url, onNotice: options.onNotice };
    this.#transactionDeadlineMs = options.transactionDeadlineMs ?? DEFAULT_TRANSACTION_DEADLINE_MS;
    this.#client = createClient(options);
    this.#writes = new PostgresWrites(this.#client, this.#context, (fn) => this.transaction(fn));
    this.cluster = new PostgresCluster(this.#client, codec, () =>
      createClient({ url: options.url, onNotice: options.onNotice, max: 1 }),
    );
    this.#scheduleReads = new PostgresSchedules((text, params) => this.#read(text, params), codec.sealed);
    this.#dependencyReads = new PostgresDependencies((text, params) => this.#read(text, params));
  }

  migrate(): Promise<void> {
    return migrateUnderLock(this.#client);
  }

  /**
   * Holds the database's owner lock until `close()`: shared by the nodes that serve it (any
   * number), exclusive for a command that needs it alone. Rejects with a `DatabaseInUseError`
   * when the other kind holds it.
   */
  async acquireOwnerLock(mode: OwnerLockMode = "shared"): Promise<void> {
    if (this.#ownerLock) return;
    this.#ownerLock = await PostgresOwnerLock.acquire(this.#clientOptions, this.location, mode);
  }

  /**
   * Whether this process still owns the database: the lock goes with its connection, so after
   * a lost connection it is taken again here, unless another kiln holds it by then.
   */
  checkOwnerLock(): Promise<OwnerLockState> {
    if (!this.#ownerLock) return Promise.reject(new Error("the owner lock was not acquired"));
    return this.#ownerLock.check();
  }

  async transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    const watch: ConnectionWatch = { lost: undefined };
    const begun = this.#client.begin((tx) => settleUnlessLost(watch, fn(this.#writesOn(tx, watch))));
    // postgres.js rejects at once when the connection closes, while `fn` may still be running:
    // from then on its statements must not be sent. (After any other rejection `fn` is done.)
    begun.catch((error: unknown) => {
      watch.lost ??= error;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Nothing more is sent; a transaction still alive (slow, not stuck) ends in a ROLLBACK
        // and gives its connection back. One that is stuck stays so, but no longer holds its caller.
        const stalled = new TransactionStalledError(this.#transactionDeadlineMs);
        watch.stalled = stalled;
        reject(stalled);
      }, this.#transactionDeadlineMs);
    });
    try {
      return (await Promise.race([begun, deadline])) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    return this.#writes.createTask(task, event);
  }
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
    fence?: RunFence,
  ): Promise<TaskRecord | undefined> {
    return this.#writes.transition(id, from, patch, event, fence);
  }
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    return this.#writes.updateTask(id, patch, event);
  }
  writeTelemetry(batch: TelemetryBatch): Promise<void> {
    return this.#writes.writeTelemetry(batch);
  }
  deleteTask(id: string): Promise<boolean> {
    return this.#writes.deleteTask(id);
  }
  deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]> {
    return this.#writes.deleteEndedBefore(cutoff, limit);
  }
  readonly #scheduleReads: PostgresSchedules;
  readonly #dependencyReads: PostgresDependencies;
  addAwaited: TaskStore["addAwaited"] = (taskId, kind, ids) => this.#writes.addAwaited(taskId, kind, ids);
  awaitedStates: TaskStore["awaitedStates"] = (taskId, kind) => this.#writes.awaitedStates(taskId, kind);
  awaitingOn: TaskStore["awaitingOn"] = (ids) => this.#dependencyReads.awaitingOn(ids);
  existingIds: TaskStore["existingIds"] = (ids) => this.#dependencyReads.existingIds(ids);
  hasAwaiting: TaskStore["hasAwaiting"] = () => this.#dependencyReads.hasAwaiting();
  awaitingToExamine: TaskStore["awaitingToExamine"] = (limit) =>
    this.#dependencyReads.awaitingToExamine(limit);
  awaitedIds: TaskStore["awaitedIds"] = (taskId, kind) => this.#dependencyReads.awaitedIds(taskId, kind);
  childrenOf: TaskStore["childrenOf"] = (parentId, limit) =>
    this.#dependencyReads.childrenOf(parentId, limit);
  taskTree: TaskStore["taskTree"] = (taskId, childLimit) =>
    this.#dependencyReads.taskTree(taskId, childLimit);
  taskWithTree: TaskStore["taskWithTree"] = async (taskId, childLimit) => {
    // Sent together: the row and its tree travel in one round trip of the pipeline.
    const [task, tree] = await Promise.all([this.getTask(taskId), this.taskTree(taskId, childLimit)]);
    return task ? { task, ...tree } : undefined;
  };
  createSchedule: TaskStore["createSchedule"] = (schedule) => this.#writes.createSchedule(schedule);
  updateSchedule: TaskStore["updateSchedule"] = (id, patch) => this.#writes.updateSchedule(id, patch);
  deleteSchedule: TaskStore["deleteSchedule"] = (id) => this.#writes.deleteSchedule(id);
  getSchedule: TaskStore["getSchedule"] = (id) => this.#scheduleReads.getSchedule(id);
  recordScheduleFire: TaskStore["recordScheduleFire"] = (fire) => this.#writes.recordScheduleFire(fire);
  listSchedules: TaskStore["listSchedules"] = () => this.#scheduleReads.listSchedules();
  // One statement each, on the pool; an upsert and a delete by name may be sent again safely.
  pauseTaskType: TaskStore["pauseTaskType"] = async (pause) => {
    const { sql, params } = PAUSE_SQL.upsert(pause);
    const [row] = await this.#read(sql, params);
    if (!row) throw new Error("upsert returned no row");
    return taskTypePauseFromRow(row);
  };
  resumeTaskType: TaskStore["resumeTaskType"] = async (taskName) => {
    const { sql, params } = PAUSE_SQL.delete(taskName);
    return (await this.#read(sql, params)).length > 0;
  };
  listTaskTypePauses: TaskStore["listTaskTypePauses"] = async () => {
    const { sql, params } = PAUSE_SQL.list();
    return (await this.#read(sql, params)).map(taskTypePauseFromRow);
  };
  listScheduleFires: TaskStore["listScheduleFires"] = (scheduleId, limit) =>
    this.#scheduleReads.listScheduleFires(scheduleId, limit);
  listQueuedFires: TaskStore["listQueuedFires"] = () => this.#scheduleReads.listQueuedFires();

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const [row] = await this.#read(SQL.getTask, [id]);
    return row ? this.#context.codec.fromRow(row) : undefined;
  }

  /**
   * How durable a commit is, as the server runs this store's sessions: synchronous_commit (which
   * a role or database setting may change from the server's) and fsync.
   */
  async durabilitySettings(): Promise<PostgresDurability> {
    const [row] = await this.#read<PostgresDurability>(
      "SELECT current_setting('synchronous_commit') AS \"synchronousCommit\", current_setting('fsync') AS fsync",
      [],
    );
    if (!row) throw new Error("the server did not report its durability settings");
    return row;
  }

  async findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    const [row] = await this.#read(SQL.findByIdempotencyKey, [key]);
    return row ? this.#context.codec.fromRow(row) : undefined;
  }

  async idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // One range of the primary key, [prefix, successor): ids are in the "C" collation, byte order.
    const upper = prefixSuccessor(prefix);
    const rows =
      upper === undefined
        ? await this.#read<{ id: string }>(SQL.idsFrom, [prefix, limit])
        : await this.#read<{ id: string }>(SQL.idsInRange, [prefix, upper, limit]);
    // Past the range's end without an upper bound, ids stop matching: keep those that do.
    return rows.map((row) => row.id).filter((id) => id.startsWith(prefix));
  }

  async listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    if (query.params?.length && this.#context.codec.cipher !== undefined)
      throw new ParamFiltersUnavailableError();
    const limit = pageSize(query.limit);
    const { sql, params } = listTasksSql(query, "postgres", limit + 1);
    // A params field or a time window is planned with its values each time: how many tasks
    // a value holds decides between walking its index and reading the window, and the generic
    // plan a prepared statement falls back to (made without values) picked the slow one.
    const byValue =
      (query.params?.length ?? 0) > 0 ||
      [query.createdAfter, query.createdBefore, query.endedAfter, query.endedBefore].some(
        (v) => v !== undefined,
      );
    const rows = await this.#read(sql, params, !byValue);
    const items = rows.slice(0, limit).map((row) => this.#context.codec.fromRow(row));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  async listActive(): Promise<TaskRecord[]> {
    const rows = await this.#read(SQL.listActive, []);
    return rows.map((row) => this.#context.codec.fromRow(row));
  }

  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    return this.#history<TaskEventRecord>(SQL.listEvents, taskId, query);
  }

  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    return this.#history<TaskLogRecord>(SQL.listLogs, taskId, query);
  }

  async verifyReadable(): Promise<void> {
    // The newest rows show which key the database is written with now: a missing or wrong key
    // is refused here, at start-up, rather than on the first read of an API client.
    for (const row of await this.#read(SQL.newest, [])) this.#context.codec.fromRow(row);
    // Schedules are few, and each fires tasks with its params: every one is read.
    await this.#scheduleReads.listSchedules();
  }

  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const rows = await this.#read<{ status: TaskStatus; count: number }>(SQL.countByStatus, []);
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  async scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; status: TaskStatus; name: string }>> {
    // A plain array: postgres.js's result carries the statement and the connection's state too.
    const params = [afterId ?? "", limit];
    return [
      ...(await run<{ id: string; status: TaskStatus; name: string }>(
        this.#client,
        SQL.scanStatusAndName,
        params,
      )),
    ];
  }

  async countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]> {
    // `at >= since` for an integer column: the same as at or above its ceiling.
    const params = [Math.ceil(since), Math.trunc(bucketMs)];
    return [...(await this.#read<EndedCount>(SQL.countEndedSince, params))];
  }

  faultOf(error: unknown): StorageFault | undefined {
    return postgresFaultOf(error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#ownerLock?.release();
    } finally {
      this.#ownerLock = undefined;
      await this.cluster.close();
      await this.#client.end({ timeout: 5 });
    }
  }

  /**
   * A read on the pool, sent once more when the connection it went out on turned out to be gone
   * (the server restarted, and the pool learns of it from this query): a read is safe to repeat,
   * and the pool has opened a new connection by then. Writes are not repeated: the first may
   * have been committed.
   */
  async #read<R = Row>(text: string, params: readonly SqlValue[], prepare = true): Promise<R[]> {
    try {
      return await run<R>(this.#client, text, params, prepare);
    } catch (error) {
      if (postgresFaultOf(error)?.cause !== "unreachable" || this.#closed) throw error;
      return run<R>(this.#client, text, params, prepare);
    }
  }

  async #history<T extends { id: number }>(
    text: string,
    taskId: string,
    query: HistoryQuery,
  ): Promise<Page<T, number>> {
    const limit = pageSize(query.limit);
    // Ids start at 1; `id > 1.5` is `id > 1` for integer ids.
    const after = query.after === undefined || !Number.isFinite(query.after) ? 0 : Math.floor(query.after);
    const rows = await this.#read<T>(text, [taskId, after, limit + 1]);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  /** The writes of a transaction (or a savepoint in it), whose `attempt` is a savepoint. */
  #writesOn(tx: PostgresTransaction, watch: ConnectionWatch): TaskWrites {
    return new PostgresWrites(
      tx,
      this.#context,
      async (fn) =>
        (await tx.savepoint((inner) => settleUnlessLost(watch, fn(this.#writesOn(inner, watch))))) as never,
      watch,
    );
  }
}
