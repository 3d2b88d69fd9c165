import type { TaskStatus } from "../task/index.ts";
import type { TaskWithTree } from "./dependency-records.ts";
import type { DurabilitySettings } from "./durability.ts";
import { KnownRecords } from "./known-records.ts";
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
import { ScheduleSql, SQLITE_DIALECT } from "./schedule-rows.ts";
import { SqliteConnection, type SqliteConnectionOptions } from "./sqlite-connection.ts";
import { emptyTaskTree, SqliteDependencies } from "./sqlite-dependencies.ts";
import { SqliteSchedules } from "./sqlite-schedules.ts";
import { SqliteStatements } from "./sqlite-statements.ts";
import { SqliteTaskReads } from "./sqlite-task-reads.ts";
import { SqliteTaskWrites } from "./sqlite-task-writes.ts";
import { SqliteTransactions, type TransactionCommand } from "./sqlite-transactions.ts";
import type { StorageFault } from "./storage-fault.ts";
import type { DeletedTask, EndedCount, HistoryQuery, SyncTaskStore } from "./store.ts";
import { TaskRowCodec } from "./task-rows.ts";
import { type KeyMaterial, ValueCipher } from "./value-cipher.ts";

export interface SqliteSyncStoreOptions extends SqliteConnectionOptions {
  /**
   * 32 bytes (or their base64 / hex text): params, results and checkpoints are then stored
   * encrypted with AES-256-GCM. Rows written before, in plaintext, stay readable.
   */
  encryptionKey?: KeyMaterial | undefined;
  /** Former encryption keys, used only to read the rows written with them (see `kiln rekey`). */
  decryptionKeys?: readonly KeyMaterial[] | undefined;
}

/** The row codec for a store's options: encrypting when a key is given. */
export function rowCodec(
  options: Pick<SqliteSyncStoreOptions, "encryptionKey" | "decryptionKeys">,
  columns: "text" | "json" = "text",
): TaskRowCodec {
  if (options.encryptionKey === undefined) {
    if (options.decryptionKeys?.length) {
      throw new Error("decryption keys are given without an encryption key: set the current key too");
    }
    return new TaskRowCodec(undefined, columns);
  }
  return new TaskRowCodec(
    new ValueCipher({ encryptionKey: options.encryptionKey, decryptionKeys: options.decryptionKeys ?? [] }),
    columns,
  );
}

/**
 * The SQLite store: one file in WAL mode, written only by the thread that opened it. Its parts:
 * the connection (`sqlite-connection.ts`: the file, its PRAGMAs, migrations, checkpoints, close),
 * the transactions (`sqlite-transactions.ts`: `batch` and the one opened by hand), the statement
 * cache (`sqlite-statements.ts`), the task reads and writes (`sqlite-task-reads.ts`,
 * `sqlite-task-writes.ts`), dependencies and schedules (`sqlite-dependencies.ts`, `sqlite-schedules.ts`).
 */
export class SqliteSyncStore implements SyncTaskStore {
  readonly path: string;
  readonly #connection: SqliteConnection;
  readonly #transactions: SqliteTransactions;
  readonly #statements: SqliteStatements;
  readonly #reads: SqliteTaskReads;
  readonly #writes: SqliteTaskWrites;
  /** Schedule statements, encrypting and decrypting params with the same key as task values. */
  readonly #scheduleSql: ScheduleSql;
  /** The statements of `task_dependencies` and the reads of awaited tasks and children. */
  #dependencies: SqliteDependencies | undefined;
  #schedules: SqliteSchedules | undefined;

  constructor(options: SqliteSyncStoreOptions) {
    this.path = options.path;
    // The keys are checked before the file is opened: a wrong set of them opens nothing.
    const rows = rowCodec(options);
    this.#scheduleSql = new ScheduleSql(SQLITE_DIALECT, rows.sealed);
    const connection = new SqliteConnection(options);
    this.#connection = connection;
    const known = new KnownRecords();
    this.#transactions = new SqliteTransactions(connection.sqlite, () => known.forgetAll());
    this.#statements = new SqliteStatements(connection.sqlite, connection.db);
    this.#reads = new SqliteTaskReads(connection.sqlite, connection.db, rows, this.#statements);
    this.#writes = new SqliteTaskWrites(connection.db, rows, this.#statements, this.#transactions, known);
  }

  migrate(): void {
    this.#connection.migrate();
  }

  /** True while a worker checkpoints the WAL and this connection's own checkpoints are off. */
  get checkpointsInBackground(): boolean {
    return this.#connection.checkpointsInBackground;
  }

  /** journal_mode and synchronous as this store's own connection reports them. */
  durabilitySettings(): DurabilitySettings {
    return this.#connection.durabilitySettings();
  }

  batch<T>(fn: () => T): T {
    return this.#transactions.run(fn);
  }

  /**
   * Opens, ends or marks a transaction by hand, for a caller that awaits between its writes
   * (the asynchronous port). The writes inside join it as they are (see `SqliteTransactions`);
   * a COMMIT of a transaction a write left half-done throws that write's error instead.
   */
  transactionControl(command: TransactionCommand, name = "kiln"): void {
    this.#transactions.control(command, name);
  }

  /**
   * Opens a read transaction that the reads made until `endReadSnapshot` share: one pair of lock
   * calls for all of them instead of one each. Writes end it first (see
   * `SqliteTransactions.beginReadSnapshot`). Answers whether one is open.
   */
  beginReadSnapshot(): boolean {
    return this.#transactions.beginReadSnapshot();
  }

  /** Ends the read transaction of `beginReadSnapshot`, if one is open. */
  endReadSnapshot(): void {
    this.#transactions.endReadSnapshot();
  }

  get dependencies(): SqliteDependencies {
    this.#dependencies ??= new SqliteDependencies(this.#connection.sqlite);
    return this.#dependencies;
  }

  /** The statements of schedules, their fires and paused task names. */
  get schedules(): SqliteSchedules {
    this.#schedules ??= new SqliteSchedules(this.#scheduleSql, (text) => this.#statements.rowStatement(text));
    return this.#schedules;
  }

  get inTransaction(): boolean {
    return this.#connection.sqlite.inTransaction;
  }

  createTask(task: NewTask, event: NewTaskEvent): TaskRecord {
    return this.#writes.createTask(task, event);
  }

  getTask(id: string): TaskRecord | undefined {
    return this.#reads.getTask(id);
  }

  /**
   * The task with exactly this id and its tree: one statement for a task that spawned nothing and
   * waits on nothing, else one read transaction (see `SqliteTransactions.read`).
   */
  taskWithTree(id: string, childLimit: number): TaskWithTree | undefined {
    const probed = this.#reads.getTaskWithTreeProbe(id);
    if (!probed) return undefined;
    if (!probed.children && !probed.awaited) return { task: probed.task, ...emptyTaskTree() };
    return this.#transactions.read(() => {
      const task = this.#reads.getTask(id);
      return task ? { task, ...this.dependencies.taskTree(id, childLimit) } : undefined;
    });
  }

  findByIdempotencyKey(key: string): TaskRecord | undefined {
    return this.#reads.findByIdempotencyKey(key);
  }

  idsWithPrefix(prefix: string, limit: number): string[] {
    return this.#reads.idsWithPrefix(prefix, limit);
  }

  listTasks(query: ListTasksQuery): Page<TaskRecord, string> {
    return this.#reads.listTasks(query);
  }

  listActive(): TaskRecord[] {
    return this.#reads.listActive();
  }

  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): TaskRecord | undefined {
    return this.#writes.transition(id, from, patch, event);
  }

  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): TaskRecord | undefined {
    return this.#writes.updateTask(id, patch, event);
  }

  listEvents(taskId: string, query: HistoryQuery): Page<TaskEventRecord, number> {
    return this.#reads.listEvents(taskId, query);
  }

  listLogs(taskId: string, query: HistoryQuery): Page<TaskLogRecord, number> {
    return this.#reads.listLogs(taskId, query);
  }

  writeTelemetry(batch: TelemetryBatch): void {
    this.#writes.writeTelemetry(batch);
  }

  deleteTask(id: string): boolean {
    return this.#writes.deleteTask(id);
  }

  deleteEndedBefore(cutoff: number, limit: number): DeletedTask[] {
    return this.#writes.deleteEndedBefore(cutoff, limit);
  }

  verifyReadable(): void {
    this.#reads.verifyNewestReadable();
    // Schedules are few, and each fires tasks with its params: every one is read.
    this.schedules.listSchedules();
  }

  countByStatus(): Record<TaskStatus, number> {
    return this.#reads.countByStatus();
  }

  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Array<{ id: string; status: TaskStatus; name: string }> {
    return this.#reads.scanStatusAndName(afterId, limit);
  }

  countEndedSince(since: number, bucketMs: number): EndedCount[] {
    return this.#reads.countEndedSince(since, bucketMs);
  }

  /**
   * The newest `perKey` starts of each rate key of `name` after `since` (epoch ms), oldest
   * first: what seeds the name's rate window at start-up (see rate-window.ts).
   */
  recentRateStarts(name: string, since: number, perKey: number): RateStart[] {
    return this.#reads.recentRateStarts(name, since, perKey);
  }

  /** The first and last pages of every table and index (the header was checked on opening). */
  probeIntegrity(): void {
    this.#connection.probeIntegrity();
  }

  /**
   * Undefined while the file at the store's path is the one it opened; see DatabaseFile.
   * `thorough` looks the path up now rather than at most once a second.
   */
  fileProblem(thorough = false): StorageFault | undefined {
    return this.#connection.fileProblem(thorough);
  }

  /** Checkpoints the WAL into the main file and closes it. Idempotent. */
  close(): void {
    this.#transactions.endReadSnapshot();
    this.#connection.close();
  }
}
