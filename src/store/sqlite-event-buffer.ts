import type { Database, Statement } from "bun:sqlite";
import type { NewTaskEvent } from "./records.ts";

const COLUMNS = "task_id, at, from_status, to_status, action, reason, actor, source";
const ROW = "(?, ?, ?, ?, ?, ?, ?, ?)";
const PER_ROW = 8;
/** Rows per INSERT at most: a commit's history rarely has more, and the statements stay few. */
const MAX_ROWS = 64;

type EventValue = string | number | null;

/**
 * The history rows of a transaction opened by hand, written together just before it commits:
 * one INSERT of many rows instead of one statement per transition (a commit holds a few ends and
 * starts, three rows a task). Nothing reads `task_events` inside such a transaction, and what is
 * buffered goes with the transaction: written at its COMMIT (a failure there fails the commit,
 * so a row is never committed without its history), before a savepoint opens and before it is
 * released (so a ROLLBACK TO drops exactly what followed it, and a part in a savepoint fails
 * alone), before a delete (whose cascade must see it); dropped at a rollback.
 */
export class SqliteEventBuffer {
  readonly #sqlite: Database;
  readonly #values: EventValue[] = [];
  readonly #inserts: Statement[] = [];

  constructor(sqlite: Database) {
    this.#sqlite = sqlite;
  }

  add(taskId: string, at: number, event: NewTaskEvent): void {
    this.#values.push(
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

  /**
   * Writes what is buffered, inside the transaction it belongs to; on a throw nothing is left
   * buffered (the transaction is rolled back). Rows whose transaction SQLite already rolled back
   * itself (a full disk) are dropped: the COMMIT that follows fails on its own.
   */
  flush(): void {
    const values = this.#values;
    if (values.length === 0) return;
    if (!this.#sqlite.inTransaction) {
      values.length = 0;
      return;
    }
    try {
      const most = MAX_ROWS * PER_ROW;
      for (let start = 0; start < values.length; start += most) {
        const end = Math.min(values.length, start + most);
        const args = start === 0 && end === values.length ? values : values.slice(start, end);
        this.#insert(args.length / PER_ROW).run(...args);
      }
    } finally {
      values.length = 0;
    }
  }

  /** Drops what is buffered: the transaction it belonged to is rolled back. */
  drop(): void {
    this.#values.length = 0;
  }

  #insert(rows: number): Statement {
    let insert = this.#inserts[rows];
    if (!insert) {
      insert = this.#sqlite.prepare(
        `INSERT INTO task_events (${COLUMNS}) VALUES ${Array.from({ length: rows }, () => ROW).join(", ")}`,
      );
      this.#inserts[rows] = insert;
    }
    return insert;
  }
}
