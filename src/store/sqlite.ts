import { Database, type Statement } from "bun:sqlite";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { ACTIVE_STATUSES, FINAL_STATUSES, TASK_STATUSES, type TaskStatus } from "../task/index.ts";
import { DatabaseFile } from "./database-file.ts";
import {
  applyDurability,
  type Durability,
  type DurabilitySettings,
  readDurabilitySettings,
} from "./durability.ts";
import { prefixSuccessor, uuidV7Floor } from "./id-ranges.ts";
import { checkFileHeader, probeEdges } from "./integrity.ts";
import { listTasksSql } from "./list-tasks-sql.ts";
import { MIGRATIONS } from "./migrations.generated.ts";
import { ParamFiltersUnavailableError, searchableParamFields } from "./param-fields.ts";
import { LAST_RUN_SLACK_MS, type RateStart, RECENT_RATE_STARTS_SQL } from "./rate-window.ts";
import type {
  ListTasksQuery,
  NewTask,
  NewTaskColumns,
  NewTaskEvent,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskPatch,
  TaskProgress,
  TaskRecord,
  TelemetryBatch,
} from "./records.ts";
import { type Row, ScheduleSql, SQLITE_DIALECT } from "./schedule-rows.ts";
import * as schema from "./schema.ts";
import { SqliteDependencies } from "./sqlite-dependencies.ts";
import { SqliteSchedules } from "./sqlite-schedules.ts";
import { fileFault, type StorageFault } from "./storage-fault.ts";
import {
  type DeletedTask,
  type EndedCount,
  type HistoryQuery,
  pageSize,
  type SyncTaskStore,
} from "./store.ts";
import { newTaskColumns, type SqlValue, TASK_COLUMNS, type TaskRow, TaskRowCodec } from "./task-rows.ts";
import { type KeyMaterial, ValueCipher } from "./value-cipher.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

const { tasks, taskEvents, taskLogs } = schema;
/** Pages of WAL after which a commit checkpoints, when nothing else does (SQLite's default). */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
const ACTIVE: TaskStatus[] = [...ACTIVE_STATUSES];
/** The final statuses as an SQL list; they are constants, never user input. */
const FINAL_SQL_LIST = FINAL_STATUSES.map((status) => `'${status}'`).join(", ");

type Db = BunSQLiteDatabase<typeof schema>;

/** "?, ?, …" for the statuses a transition is guarded on, made once per count. */
const PLACEHOLDERS: string[] = [];
function placeholders(count: number): string {
  PLACEHOLDERS[count] ??= Array.from({ length: count }, () => "?").join(", ");
  return PLACEHOLDERS[count];
}

export interface SqliteSyncStoreOptions {
  /** Path of the database file, or ":memory:". */
  path: string;
  /**
   * 32 bytes (or their base64 / hex text): params, results and checkpoints are then stored
   * encrypted with AES-256-GCM. Rows written before, in plaintext, stay readable.
   */
  encryptionKey?: KeyMaterial | undefined;
  /** Former encryption keys, used only to read the rows written with them (see `kiln rekey`). */
  decryptionKeys?: readonly KeyMaterial[] | undefined;
  /**
   * Checkpoint the WAL from a thread of its own instead of inside the commits of the thread
   * that writes (default true for a file). See WalCheckpointer.
   */
  backgroundCheckpoints?: boolean;
  /** Background checkpoints failed and SQLite's automatic ones are back on; for a log line. */
  onCheckpointFallback?: (error: string) => void;
  /** What a commit survives (default "normal"); see `Durability`. */
  durability?: Durability | undefined;
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

/** The SQLite store: one file in WAL mode, written only by the thread that opened it. */
export class SqliteSyncStore implements SyncTaskStore {
  readonly path: string;
  readonly #sqlite: Database;
  /** The statements of `task_dependencies` and the reads of awaited tasks and children. */
  #dependencies: SqliteDependencies | undefined;
  #schedules: SqliteSchedules | undefined;
  readonly #db: Db;
  readonly #cache = new Map<string, Statement<TaskRow, SqlValue[]>>();
  readonly #inserts = new Map<string, Statement<TaskRow, SqlValue[]>>();
  readonly #rows: TaskRowCodec;
  /** Schedule statements, encrypting and decrypting params with the same key as task values. */
  readonly #scheduleSql: ScheduleSql;
  #closed = false;
  readonly #checkpointer: WalCheckpointer | undefined;
  readonly #file: DatabaseFile | undefined;
  #statements: ReturnType<SqliteSyncStore["prepareStatements"]> | undefined;
  /**
   * Runs `fn` in a transaction (a savepoint when one is open). Made once: bun:sqlite's
   * `transaction()` builds a new wrapper on each call, which showed in profiles of every write.
   */
  readonly #transaction: <T>(fn: () => T) => T;
  /**
   * True while a transaction opened by hand (`transactionControl("begin")`) is open: a write's
   * statements then join it without a savepoint of their own (two statements each, per write, on
   * the hottest path). A statement that fails undoes only itself, so a write whose first statement
   * fails has written nothing; one that fails after its first statement leaves the transaction
   * `#spoiled` instead, and it can then only be rolled back (or the savepoint around the write
   * rolled back to).
   */
  #byHand = false;
  /** Set between a write's first statement and its end: a throw then leaves half of it written. */
  #halfway = false;
  /** The error of a write that failed half-way in the transaction opened by hand, if one did. */
  #spoiled: { error: unknown } | undefined;
  /** `#spoiled` as each savepoint open inside that transaction found it, innermost last. */
  readonly #spoiledAtSavepoint: ({ error: unknown } | undefined)[] = [];

  constructor(options: SqliteSyncStoreOptions) {
    this.path = options.path;
    this.#rows = rowCodec(options);
    this.#scheduleSql = new ScheduleSql(SQLITE_DIALECT, this.#rows.sealed);
    let file = options.path === ":memory:" ? undefined : DatabaseFile.openIfExists(options.path);
    try {
      // A file cut short is named as such, before SQLite reads it and says "malformed".
      if (file) checkFileHeader(file);
      this.#sqlite = new Database(options.path, { create: true, strict: true });
    } catch (error) {
      file?.close();
      throw error;
    }
    try {
      // First: switching to WAL needs a lock, and another connection still closing the file
      // must make it wait, not fail with "database is locked".
      this.#sqlite.exec("PRAGMA busy_timeout = 5000");
      this.#sqlite.exec("PRAGMA journal_mode = WAL");
      applyDurability(this.#sqlite, options.durability);
      this.#sqlite.exec("PRAGMA foreign_keys = ON");
      if (options.path !== ":memory:") file ??= DatabaseFile.open(options.path);
      this.#file = file;
    } catch (error) {
      // A file that is not a database fails here: close it rather than leave it to the GC.
      this.#sqlite.close();
      file?.close();
      throw error;
    }
    this.#db = drizzle({ client: this.#sqlite, schema });
    const inTransaction = this.#sqlite.transaction((fn: () => unknown) => fn());
    this.#transaction = <T>(fn: () => T): T => inTransaction(fn) as T;
    if (options.path !== ":memory:" && options.backgroundCheckpoints !== false) {
      this.#sqlite.exec("PRAGMA wal_autocheckpoint = 0");
      this.#checkpointer = new WalCheckpointer({
        path: options.path,
        onRestartWanted: () => {
          // Between two of this connection's own commits, never inside a batch.
          if (!this.#closed && !this.#sqlite.inTransaction)
            this.#sqlite.exec("PRAGMA wal_checkpoint(PASSIVE)");
        },
        onFailure: (error) => {
          if (this.#closed) return;
          this.#sqlite.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
          options.onCheckpointFallback?.(error);
        },
      });
    }
  }

  /** Statements on hot paths, prepared once the tables exist. */
  private prepareStatements() {
    return {
      // Written on every transition: bun:sqlite binds the array directly, without the per-call
      // parameter mapping a Drizzle placeholder query does.
      insertParamField: this.#sqlite.prepare<unknown, [string, string, string]>(
        "INSERT INTO task_params (task_id, path, value) VALUES (?, ?, ?)",
      ),
      insertEvent: this.#sqlite.prepare<unknown, [string, number, ...(string | null)[]]>(
        "INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      saveProgress: this.#db
        .update(tasks)
        .set({ progress: sql`${sql.placeholder("progress")}` })
        .where(eq(tasks.id, sql.placeholder("id")))
        .prepare(),
      saveCheckpoint: this.#db
        .update(tasks)
        .set({ checkpoint: sql`${sql.placeholder("checkpoint")}` })
        .where(and(eq(tasks.id, sql.placeholder("id")), inArray(tasks.status, ACTIVE)))
        .prepare(),
      // A line may arrive after its task was deleted; it is dropped rather than failing the whole batch.
      insertLog: this.#sqlite.prepare<unknown, [Record<string, string | number>]>(
        "INSERT INTO task_logs (task_id, at, level, message) SELECT $taskId, $at, $level, $message WHERE EXISTS (SELECT 1 FROM tasks WHERE id = $taskId)",
      ),
    };
  }

  get #prepared() {
    this.#statements ??= this.prepareStatements();
    return this.#statements;
  }

  migrate(): void {
    // Drizzle's own migrator reads drizzle/'s files at run time; this feeds its dialect the copy
    // generated into the source (scripts/generate-migrations.ts), which is there wherever kiln runs:
    // a checkout, node_modules, the binary. `dialect` and `session` are internal, hence the cast.
    const internals = this.#db as unknown as {
      dialect: { migrate(migrations: unknown, session: unknown, config: { migrationsFolder: string }): void };
      session: unknown;
    };
    internals.dialect.migrate(MIGRATIONS, internals.session, { migrationsFolder: "" });
  }

  /** True while a worker checkpoints the WAL and this connection's own checkpoints are off. */
  get checkpointsInBackground(): boolean {
    const row = this.#sqlite.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get();
    return this.#checkpointer !== undefined && row?.wal_autocheckpoint === 0;
  }

  /** journal_mode and synchronous as this store's own connection reports them. */
  durabilitySettings(): DurabilitySettings {
    return readDurabilitySettings(this.#sqlite);
  }

  batch<T>(fn: () => T): T {
    return this.#transaction(fn);
  }

  /**
   * Opens, ends or marks a transaction by hand, for a caller that awaits between its writes
   * (the asynchronous port). The writes inside join it as they are (see `#byHand`); a COMMIT of
   * a transaction a write left half-done throws that write's error instead.
   */
  transactionControl(
    command: "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollback-to",
    name = "kiln",
  ): void {
    switch (command) {
      case "begin":
        this.#sqlite.exec("BEGIN");
        this.#byHand = true;
        this.#spoiled = undefined;
        this.#spoiledAtSavepoint.length = 0;
        return;
      case "commit":
        // Half a write must not be committed: the caller rolls back on this throw.
        if (this.#spoiled) throw this.#spoiled.error;
        this.#sqlite.exec("COMMIT");
        this.#byHand = false;
        return;
      case "rollback":
        this.#byHand = false;
        this.#spoiled = undefined;
        this.#spoiledAtSavepoint.length = 0;
        this.#sqlite.exec("ROLLBACK");
        return;
      case "savepoint":
        this.#sqlite.exec(`SAVEPOINT ${name}`);
        this.#spoiledAtSavepoint.push(this.#spoiled);
        return;
      case "release":
        this.#sqlite.exec(`RELEASE ${name}`);
        this.#spoiledAtSavepoint.pop();
        return;
      case "rollback-to":
        this.#sqlite.exec(`ROLLBACK TO ${name}`);
        // What was written since the savepoint is undone, half a write included.
        this.#spoiled = this.#spoiledAtSavepoint.at(-1);
        return;
    }
  }

  /**
   * Runs a write's statements as one: in the transaction opened by hand without a savepoint of
   * their own (see `#byHand`), else in a transaction of their own (a savepoint inside `batch`).
   */
  #atomic<T>(fn: () => T): T {
    if (!this.#byHand || !this.#sqlite.inTransaction) return this.#transaction(fn);
    this.#halfway = false;
    try {
      return fn();
    } catch (error) {
      if (this.#halfway) this.#spoiled ??= { error };
      throw error;
    } finally {
      this.#halfway = false;
    }
  }

  get dependencies(): SqliteDependencies {
    this.#dependencies ??= new SqliteDependencies(this.#sqlite);
    return this.#dependencies;
  }

  /** The statements of schedules, their fires and paused task names. */
  get schedules(): SqliteSchedules {
    this.#schedules ??= new SqliteSchedules(this.#scheduleSql, (text) => this.#rowStatement(text));
    return this.#schedules;
  }

  get inTransaction(): boolean {
    return this.#sqlite.inTransaction;
  }

  createTask(task: NewTask, event: NewTaskEvent): TaskRecord {
    const now = Date.now();
    const row = newTaskColumns(task);
    const fields = Object.keys(row) as (keyof NewTaskColumns)[];
    const values = fields.map((field) => this.#rows.toSql(field, row[field], task.id));
    values.push(now, now);
    const insert = this.#insertStatement(fields);
    return this.#atomic(() => {
      const row = insert.get(...values);
      if (!row) throw new Error("insert returned no row");
      this.#halfway = true;
      this.#insertEvent(task.id, now, event);
      // Encrypted params keep no searchable copy (see ParamFiltersUnavailableError).
      if (this.#rows.cipher === undefined && task.searchableParams !== false) {
        for (const field of searchableParamFields(task.params)) {
          this.#prepared.insertParamField.run(task.id, field.path, field.value);
        }
      }
      return this.#rows.fromRow(row);
    });
  }

  getTask(id: string): TaskRecord | undefined {
    const row = this.#statement("SELECT * FROM tasks WHERE id = ?").get(id);
    return row ? this.#rows.fromRow(row) : undefined;
  }

  findByIdempotencyKey(key: string): TaskRecord | undefined {
    return this.#selectTasks(this.#db.select().from(tasks).where(eq(tasks.idempotencyKey, key)))[0];
  }

  idsWithPrefix(prefix: string, limit: number): string[] {
    // The ids that start with `prefix` are one range of the primary key: [prefix, successor).
    // (LIKE 'prefix%' would not use the index: SQLite's LIKE ignores case, the key compares bytes.)
    const upper = prefixSuccessor(prefix);
    const rows =
      upper === undefined
        ? this.#sqlite
            .query<{ id: string }, [string, number]>("SELECT id FROM tasks WHERE id >= ? ORDER BY id LIMIT ?")
            .all(prefix, limit)
        : this.#sqlite
            .query<{ id: string }, [string, string, number]>(
              "SELECT id FROM tasks WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            )
            .all(prefix, upper, limit);
    // Past the range's end without an upper bound, ids stop matching: keep those that do.
    return rows.map((row) => row.id).filter((id) => id.startsWith(prefix));
  }

  listTasks(query: ListTasksQuery): Page<TaskRecord, string> {
    if (query.params?.length && this.#rows.cipher !== undefined) throw new ParamFiltersUnavailableError();
    const limit = pageSize(query.limit);
    const { sql: text, params } = listTasksSql(query, "sqlite", limit + 1);
    const rows = this.#statement(text)
      .all(...params)
      .map((row) => this.#rows.fromRow(row));
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  listActive(): TaskRecord[] {
    return this.#selectTasks(
      this.#db.select().from(tasks).where(inArray(tasks.status, ACTIVE)).orderBy(asc(tasks.id)),
    );
  }

  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): TaskRecord | undefined {
    const now = Date.now();
    const set = this.#rows.setClause(patch, now, id);
    const guard = placeholders(from.length);
    const update = this.#statement(
      `UPDATE tasks SET ${set.sql} WHERE id = ? AND status IN (${guard}) RETURNING *`,
    );
    return this.#atomic(() => {
      const row = update.get(...set.values, id, ...from);
      if (!row) return undefined;
      this.#halfway = true;
      this.#insertEvent(id, now, event);
      return this.#rows.fromRow(row);
    });
  }

  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): TaskRecord | undefined {
    const now = Date.now();
    const set = this.#rows.setClause(patch, now, id);
    const update = this.#statement(`UPDATE tasks SET ${set.sql} WHERE id = ? RETURNING *`);
    return this.#atomic(() => {
      const row = update.get(...set.values, id);
      if (!row) return undefined;
      this.#halfway = true;
      if (event) this.#insertEvent(id, now, event);
      return this.#rows.fromRow(row);
    });
  }

  listEvents(taskId: string, query: HistoryQuery): Page<TaskEventRecord, number> {
    const limit = pageSize(query.limit);
    const rows = this.#db
      .select()
      .from(taskEvents)
      .where(
        and(
          eq(taskEvents.taskId, taskId),
          query.after === undefined ? undefined : gt(taskEvents.id, query.after),
        ),
      )
      .orderBy(asc(taskEvents.id))
      .limit(limit + 1)
      .all() as TaskEventRecord[];
    return this.#page(rows, limit);
  }

  listLogs(taskId: string, query: HistoryQuery): Page<TaskLogRecord, number> {
    const limit = pageSize(query.limit);
    const rows = this.#db
      .select()
      .from(taskLogs)
      .where(
        and(
          eq(taskLogs.taskId, taskId),
          query.after === undefined ? undefined : gt(taskLogs.id, query.after),
        ),
      )
      .orderBy(asc(taskLogs.id))
      .limit(limit + 1)
      .all() as TaskLogRecord[];
    return this.#page(rows, limit);
  }

  writeTelemetry(batch: TelemetryBatch): void {
    if (batch.progress.size === 0 && batch.checkpoints.size === 0 && batch.logs.length === 0) return;
    this.#transaction(() => {
      for (const [id, progress] of batch.progress) {
        this.#prepared.saveProgress.run({ id, progress: JSON.stringify(progress satisfies TaskProgress) });
      }
      for (const [id, checkpoint] of batch.checkpoints) {
        this.#prepared.saveCheckpoint.run({ id, checkpoint: this.#rows.toSql("checkpoint", checkpoint, id) });
      }
      for (const log of batch.logs) this.#prepared.insertLog.run(log);
    });
  }

  deleteTask(id: string): boolean {
    const deleted = this.#db
      .delete(tasks)
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...FINAL_STATUSES])))
      .returning({ id: tasks.id })
      .all();
    return deleted.length > 0;
  }

  deleteEndedBefore(cutoff: number, limit: number): DeletedTask[] {
    const final = FINAL_STATUSES.map(() => "?").join(", ");
    // end_time has no index, and scanning every ended task for it costs ~0.7 s per million rows
    // on each pass. But ids are UUIDv7, so they sort by creation time, and a task cannot end
    // before it was created: only ids below the cutoff's UUIDv7 prefix can qualify, and the
    // (status, id) index finds those alone. Events and logs go with their task (ON DELETE
    // CASCADE; foreign keys are on); the outer status check guards a task restarted meanwhile.
    const deleted = this.#statement(
      `DELETE FROM tasks WHERE status IN (${final}) AND id IN (
         SELECT id FROM tasks WHERE status IN (${final}) AND id < ? AND end_time < ? LIMIT ?
       ) RETURNING id, status, task_name`,
    ).all(...FINAL_STATUSES, ...FINAL_STATUSES, uuidV7Floor(cutoff), cutoff, limit);
    return deleted.map((row) => ({
      id: String(row.id),
      status: row.status as TaskStatus,
      name: String(row.task_name),
    }));
  }

  verifyReadable(): void {
    // The newest rows show which key the database is written with now: a missing or wrong key
    // is refused here, at start-up, rather than on the first read of an API client.
    for (const row of this.#statement("SELECT * FROM tasks ORDER BY id DESC LIMIT 100").all()) {
      this.#rows.fromRow(row);
    }
    // Schedules are few, and each fires tasks with its params: every one is read.
    this.schedules.listSchedules();
  }

  countByStatus(): Record<TaskStatus, number> {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const rows = this.#db
      .select({ status: tasks.status, count: sql<number>`count(*)` })
      .from(tasks)
      .groupBy(tasks.status)
      .all();
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Array<{ id: string; status: TaskStatus; name: string }> {
    return this.#sqlite
      .query<{ id: string; status: TaskStatus; name: string }, [string, number]>(
        "SELECT id, status, task_name AS name FROM tasks WHERE id > ? ORDER BY id LIMIT ?",
      )
      .all(afterId ?? "", limit);
  }

  countEndedSince(since: number, bucketMs: number): EndedCount[] {
    // task_events.at has no index, but events are appended in time order, so `at` grows with
    // the id: a binary search over the primary key finds the first event at or after `since`,
    // and only the events since then are read, however long the history is.
    const firstAt = this.#sqlite.query<{ id: number; at: number }, [number]>(
      "SELECT id, at FROM task_events WHERE id >= ? ORDER BY id LIMIT 1",
    );
    // Two queries: SQLite answers a lone min() or max() from the key, but both at once by a scan.
    const first = this.#sqlite.query<{ id: number }, []>("SELECT min(id) AS id FROM task_events").get();
    const last = this.#sqlite.query<{ id: number }, []>("SELECT max(id) AS id FROM task_events").get();
    if (first?.id == null || last?.id == null) return [];
    let lo = first.id;
    let hi = last.id + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = firstAt.get(mid);
      if (!row || row.at >= since) hi = mid;
      else lo = row.id + 1;
    }
    return this.#sqlite
      .query<EndedCount, [number, number, number, number]>(
        `SELECT (at / ?) * ? AS bucket, to_status AS status, count(*) AS count FROM task_events
         WHERE id >= ? AND at >= ? AND to_status IN (${FINAL_SQL_LIST})
         GROUP BY bucket, status ORDER BY bucket, status`,
      )
      .all(bucketMs, bucketMs, lo, since);
  }

  /**
   * The newest `perKey` starts of each rate key of `name` after `since` (epoch ms), oldest
   * first: what seeds the name's rate window at start-up (see rate-window.ts).
   */
  recentRateStarts(name: string, since: number, perKey: number): RateStart[] {
    return this.#rowStatement(RECENT_RATE_STARTS_SQL)
      .all(name, since - LAST_RUN_SLACK_MS, since, perKey)
      .map((row) => ({ rateKey: row.rate_key as string, at: Number(row.at) }));
  }

  /** The first and last pages of every table and index (the header was checked on opening). */
  probeIntegrity(): void {
    if (this.path !== ":memory:") probeEdges(this.#sqlite);
  }

  /**
   * Undefined while the file at the store's path is the one it opened; see DatabaseFile.
   * `thorough` looks the path up now rather than at most once a second.
   */
  fileProblem(thorough = false): StorageFault | undefined {
    const problem = this.#file?.problem(thorough);
    return problem ? fileFault(problem) : undefined;
  }

  /** Checkpoints the WAL into the main file and closes it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#checkpointer?.stop();
    try {
      const truncate = this.#sqlite.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)");
      // The checkpointer's connection may take a moment to let go of the file after stop().
      for (let attempt = 0; attempt < 20 && truncate.get()?.busy === 1; attempt++) Bun.sleepSync(5);
      truncate.finalize();
    } finally {
      this.#sqlite.close();
      this.#file?.close();
    }
  }

  /**
   * Runs a query drizzle built over `tasks` and decodes its rows with the row codec, so that
   * every task read goes through the one place that decrypts.
   */
  #selectTasks(query: { toSQL(): { sql: string; params: unknown[] } }): TaskRecord[] {
    const { sql: text, params } = query.toSQL();
    return this.#statement(text)
      .all(...(params as SqlValue[]))
      .map((row) => this.#rows.fromRow(row));
  }

  /**
   * The INSERT of a task with these fields (the engine's creates all have the same ones), looked
   * up by their names rather than by SQL text built again on every create.
   */
  #insertStatement(fields: readonly (keyof NewTaskColumns)[]): Statement<TaskRow, SqlValue[]> {
    const key = fields.join(",");
    let insert = this.#inserts.get(key);
    if (!insert) {
      const columns = [...fields.map((field) => TASK_COLUMNS[field]), "created_at", "updated_at"];
      insert = this.#statement(
        `INSERT INTO tasks (${columns.join(", ")}) VALUES (${placeholders(columns.length)}) RETURNING *`,
      );
      this.#inserts.set(key, insert);
    }
    return insert;
  }

  /** A statement whose rows are not tasks (schedules, fires), cached as the task ones are. */
  #rowStatement(sql: string): Statement<Row, SqlValue[]> {
    return this.#statement(sql) as unknown as Statement<Row, SqlValue[]>;
  }

  /** Hot-path statements come in a few shapes; each is compiled once and reused. */
  #statement(sql: string): Statement<TaskRow, SqlValue[]> {
    let statement = this.#cache.get(sql);
    if (!statement) {
      statement = this.#sqlite.prepare<TaskRow, SqlValue[]>(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  #insertEvent(taskId: string, at: number, event: NewTaskEvent): void {
    this.#prepared.insertEvent.run(
      taskId,
      at,
      event.fromStatus,
      event.toStatus,
      event.action,
      event.reason,
      event.actor,
      event.source,
    );
  }

  #page<T extends { id: number }>(rows: T[], limit: number): Page<T, number> {
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }
}
