import type { Database, Statement } from "bun:sqlite";
import { and, eq, inArray, sql } from "drizzle-orm";
import { ACTIVE_STATUSES, type TaskStatus } from "../task/index.ts";
import type { NewTaskColumns } from "./records.ts";
import type { Row } from "./schedule-rows.ts";
import * as schema from "./schema.ts";
import type { SqliteDb } from "./sqlite-connection.ts";
import { type SetClause, type SqlValue, TASK_COLUMNS, type TaskRow } from "./task-rows.ts";

const { tasks } = schema;
const ACTIVE: TaskStatus[] = [...ACTIVE_STATUSES];

/** "?, ?, …" for the statuses a transition is guarded on, made once per count. */
const PLACEHOLDERS: string[] = [];
export function placeholders(count: number): string {
  PLACEHOLDERS[count] ??= Array.from({ length: count }, () => "?").join(", ");
  return PLACEHOLDERS[count];
}

/** The text of `SqliteStatements.update`'s statement. */
function updateText(set: SetClause, guardCount: number | undefined, returning: boolean): string {
  const guard = guardCount === undefined ? "" : ` AND status IN (${placeholders(guardCount)})`;
  return `UPDATE tasks SET ${set.sql} WHERE id = ?${guard}${returning ? " RETURNING *" : ""}`;
}

/** Statements on hot paths, prepared once the tables exist. */
function prepareHotStatements(sqlite: Database, db: SqliteDb) {
  return {
    // Written at create: bun:sqlite binds the array directly, without the per-call parameter
    // mapping a Drizzle placeholder query does.
    insertParamField: sqlite.prepare<unknown, [string, string, string]>(
      "INSERT INTO task_params (task_id, path, value) VALUES (?, ?, ?)",
    ),
    // A tag given twice is one row.
    insertTag: sqlite.prepare<unknown, [string, string]>(
      "INSERT OR IGNORE INTO task_tags (task_id, tag) VALUES (?, ?)",
    ),
    saveProgress: db
      .update(tasks)
      .set({ progress: sql`${sql.placeholder("progress")}` })
      .where(eq(tasks.id, sql.placeholder("id")))
      .prepare(),
    saveCheckpoint: db
      .update(tasks)
      .set({ checkpoint: sql`${sql.placeholder("checkpoint")}` })
      .where(and(eq(tasks.id, sql.placeholder("id")), inArray(tasks.status, ACTIVE)))
      .prepare(),
    // A line may arrive after its task was deleted; it is dropped rather than failing the whole batch.
    insertLog: sqlite.prepare<unknown, [Record<string, string | number>]>(
      "INSERT INTO task_logs (task_id, at, level, message) SELECT $taskId, $at, $level, $message WHERE EXISTS (SELECT 1 FROM tasks WHERE id = $taskId)",
    ),
  };
}

/** The SQLite store's compiled statements: the fixed ones of the hot paths and a cache by SQL text. */
export class SqliteStatements {
  readonly #sqlite: Database;
  readonly #db: SqliteDb;
  readonly #cache = new Map<string, Statement<TaskRow, SqlValue[]>>();
  readonly #inserts = new Map<string, Statement<TaskRow, SqlValue[]>>();
  readonly #updates = new Map<number, Statement<TaskRow, SqlValue[]>>();
  #hot: ReturnType<typeof prepareHotStatements> | undefined;

  constructor(sqlite: Database, db: SqliteDb) {
    this.#sqlite = sqlite;
    this.#db = db;
  }

  /** The hot-path statements, prepared on first use (after the migrations made the tables). */
  get prepared(): ReturnType<typeof prepareHotStatements> {
    this.#hot ??= prepareHotStatements(this.#sqlite, this.#db);
    return this.#hot;
  }

  /** Hot-path statements come in a few shapes; each is compiled once and reused. */
  statement(sql: string): Statement<TaskRow, SqlValue[]> {
    let statement = this.#cache.get(sql);
    if (!statement) {
      statement = this.#sqlite.prepare<TaskRow, SqlValue[]>(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  /**
   * The UPDATE of one task by `set`, guarded on `guardCount` statuses (`status IN (…)`, which an
   * empty guard makes match nothing) or not guarded (undefined), with `RETURNING *` or without.
   * Looked up by the clause's shape and the two others, so a write neither builds its SQL text
   * again nor hashes it.
   */
  update(set: SetClause, guardCount: number | undefined, returning: boolean): Statement<TaskRow, SqlValue[]> {
    // Three bits hold the guard: none, or a count up to six (a guard names each status once).
    const guardKey = guardCount === undefined ? 0 : guardCount + 1;
    if (guardKey > 7) return this.statement(updateText(set, guardCount, returning));
    const key = (set.shape * 8 + guardKey) * 2 + (returning ? 1 : 0);
    let update = this.#updates.get(key);
    if (!update) {
      update = this.statement(updateText(set, guardCount, returning));
      this.#updates.set(key, update);
    }
    return update;
  }

  /** A statement whose rows are not tasks (schedules, fires), cached as the task ones are. */
  rowStatement(sql: string): Statement<Row, SqlValue[]> {
    return this.statement(sql) as unknown as Statement<Row, SqlValue[]>;
  }

  /**
   * The INSERT of a task with these fields (the engine's creates all have the same ones), looked
   * up by their names rather than by SQL text built again on every create.
   */
  insertStatement(fields: readonly (keyof NewTaskColumns)[]): Statement<TaskRow, SqlValue[]> {
    const key = fields.join(",");
    let insert = this.#inserts.get(key);
    if (!insert) {
      const columns = [...fields.map((field) => TASK_COLUMNS[field]), "created_at", "updated_at"];
      // No RETURNING *: the store knows the row it inserts (see `createdRecord`).
      insert = this.statement(
        `INSERT INTO tasks (${columns.join(", ")}) VALUES (${placeholders(columns.length)})`,
      );
      this.#inserts.set(key, insert);
    }
    return insert;
  }
}
