import { and, eq, inArray } from "drizzle-orm";
import { FINAL_STATUSES, type TaskStatus } from "../task/index.ts";
import { uuidV7Floor } from "./id-ranges.ts";
import { createdRecord, type KnownRecords, patchedRecord } from "./known-records.ts";
import { searchableParamFields } from "./param-fields.ts";
import type {
  NewTask,
  NewTaskColumns,
  NewTaskEvent,
  TaskPatch,
  TaskProgress,
  TaskRecord,
  TelemetryBatch,
} from "./records.ts";
import * as schema from "./schema.ts";
import type { SqliteDb } from "./sqlite-connection.ts";
import type { SqliteStatements } from "./sqlite-statements.ts";
import type { SqliteTransactions } from "./sqlite-transactions.ts";
import type { DeletedTask } from "./store.ts";
import { newTaskColumns, type TaskRowCodec } from "./task-rows.ts";

const { tasks } = schema;

/** The length of a column's stored text; 0 for SQL NULL. */
const storedLength = (value: unknown) => (typeof value === "string" ? value.length : 0);

/**
 * The SQLite store's writes of tasks: creates, transitions and updates with their history rows,
 * telemetry, deletes. A write and its history row are one: in the same transaction (see
 * `SqliteTransactions.atomic`), where the row may wait for the commit (`SqliteEventBuffer`).
 */
export class SqliteTaskWrites {
  readonly #db: SqliteDb;
  readonly #rows: TaskRowCodec;
  readonly #statements: SqliteStatements;
  readonly #transactions: SqliteTransactions;
  readonly #known: KnownRecords;

  constructor(
    db: SqliteDb,
    rows: TaskRowCodec,
    statements: SqliteStatements,
    transactions: SqliteTransactions,
    known: KnownRecords,
  ) {
    this.#db = db;
    this.#rows = rows;
    this.#statements = statements;
    this.#transactions = transactions;
    this.#known = known;
  }

  createTask(task: NewTask, event: NewTaskEvent): TaskRecord {
    const now = Date.now();
    const row = newTaskColumns(task);
    const fields = Object.keys(row) as (keyof NewTaskColumns)[];
    const values = fields.map((field) => this.#rows.toSql(field, row[field], task.id));
    values.push(now, now);
    const insert = this.#statements.insertStatement(fields);
    const params = values[fields.indexOf("params")];
    // Without a key the stored params are their JSON text: parsed, not encoded a second time.
    const record = createdRecord(row, now, this.#rows.cipher === undefined ? params : undefined);
    return this.#transactions.atomic(() => {
      insert.run(...values);
      this.#transactions.halfway = true;
      this.#insertEvent(task.id, now, event);
      if (task.tags) for (const tag of task.tags) this.#statements.prepared.insertTag.run(task.id, tag);
      // Encrypted params keep no searchable copy (see ParamFiltersUnavailableError).
      if (this.#rows.cipher === undefined && task.searchableParams !== false) {
        for (const field of searchableParamFields(task.params)) {
          this.#statements.prepared.insertParamField.run(task.id, field.path, field.value);
        }
      }
      this.#known.remember(record, storedLength(params));
      return record;
    });
  }

  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): TaskRecord | undefined {
    const now = Date.now();
    const set = this.#rows.setClause(patch, now, id);
    const known = this.#known.get(id);
    const next =
      known && from.includes(known.status) ? patchedRecord(known, patch, now, set.jsonTexts) : undefined;
    if (next) {
      // The row is known: what the UPDATE leaves is computed rather than read back.
      const update = this.#statements.update(set, from.length, false);
      const moved = this.#transactions.atomic(() => {
        if (update.run(...set.values, id, ...from).changes !== 1) return false;
        this.#transactions.halfway = true;
        this.#insertEvent(id, now, event);
        return true;
      });
      if (moved) {
        this.#known.replace(next);
        return next;
      }
      // Not the row it was thought to be: nothing was written; read what it is.
      this.#known.forget(id);
    }
    const update = this.#statements.update(set, from.length, true);
    return this.#transactions.atomic(() => {
      const row = update.get(...set.values, id, ...from);
      if (!row) return undefined;
      this.#transactions.halfway = true;
      this.#insertEvent(id, now, event);
      const record = this.#rows.fromRow(row);
      this.#known.remember(record, storedLength(row.params));
      return record;
    });
  }

  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): TaskRecord | undefined {
    this.#known.forget(id);
    const now = Date.now();
    const set = this.#rows.setClause(patch, now, id);
    const update = this.#statements.update(set, undefined, true);
    return this.#transactions.atomic(() => {
      const row = update.get(...set.values, id);
      if (!row) return undefined;
      this.#transactions.halfway = true;
      if (event) this.#insertEvent(id, now, event);
      return this.#rows.fromRow(row);
    });
  }

  writeTelemetry(batch: TelemetryBatch): void {
    if (batch.progress.size === 0 && batch.checkpoints.size === 0 && batch.logs.length === 0) return;
    this.#transactions.run(() => {
      const prepared = this.#statements.prepared;
      for (const [id, progress] of batch.progress) {
        this.#known.forget(id);
        prepared.saveProgress.run({ id, progress: JSON.stringify(progress satisfies TaskProgress) });
      }
      for (const [id, checkpoint] of batch.checkpoints) {
        this.#known.forget(id);
        prepared.saveCheckpoint.run({ id, checkpoint: this.#rows.toSql("checkpoint", checkpoint, id) });
      }
      for (const log of batch.logs) prepared.insertLog.run(log);
    });
  }

  deleteTask(id: string): boolean {
    this.#known.forget(id);
    // The delete's cascade must find the task's history, buffered rows included.
    this.#transactions.events.flush();
    const deleted = this.#db
      .delete(tasks)
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...FINAL_STATUSES])))
      .returning({ id: tasks.id })
      .all();
    return deleted.length > 0;
  }

  deleteEndedBefore(cutoff: number, limit: number): DeletedTask[] {
    this.#transactions.events.flush();
    const final = FINAL_STATUSES.map(() => "?").join(", ");
    // Ids are UUIDv7, so they sort by creation time, and a task cannot end before it was
    // created: only ids below the cutoff's UUIDv7 prefix can qualify, and the (status, id) index
    // finds those alone (SQLite picks it over the end-time index here; either bounds the walk).
    // Events and logs go with their task (ON DELETE CASCADE; foreign keys are on); the outer
    // status check guards a task restarted meanwhile.
    const deleted = this.#statements
      .statement(
        `DELETE FROM tasks WHERE status IN (${final}) AND id IN (
         SELECT id FROM tasks WHERE status IN (${final}) AND id < ? AND end_time < ? LIMIT ?
       ) RETURNING id, status, task_name`,
      )
      .all(...FINAL_STATUSES, ...FINAL_STATUSES, uuidV7Floor(cutoff), cutoff, limit);
    return deleted.map((row) => ({
      id: String(row.id),
      status: row.status as TaskStatus,
      name: String(row.task_name),
    }));
  }

  /** A history row: with the others of a transaction opened by hand, else now (in the write's own). */
  #insertEvent(taskId: string, at: number, event: NewTaskEvent): void {
    this.#transactions.events.add(taskId, at, event);
    if (!this.#transactions.buffersEvents) this.#transactions.events.flush();
  }
}
