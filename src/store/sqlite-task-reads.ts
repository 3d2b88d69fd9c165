import type { Database } from "bun:sqlite";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { ACTIVE_STATUSES, FINAL_STATUSES, TASK_STATUSES, type TaskStatus } from "../task/index.ts";
import { prefixSuccessor } from "./id-ranges.ts";
import {
  END_WINDOW_INDEX_MAX,
  endTimeIndexApplies,
  endWindowCountSql,
  listTasksSql,
} from "./list-tasks-sql.ts";
import { ParamFiltersUnavailableError } from "./param-fields.ts";
import { LAST_RUN_SLACK_MS, type RateStart, RECENT_RATE_STARTS_SQL } from "./rate-window.ts";
import type { ListTasksQuery, Page, TaskEventRecord, TaskLogRecord, TaskRecord } from "./records.ts";
import * as schema from "./schema.ts";
import type { SqliteDb } from "./sqlite-connection.ts";
import { treeProbeColumns } from "./sqlite-dependencies.ts";
import type { SqliteStatements } from "./sqlite-statements.ts";
import { type EndedCount, type HistoryQuery, pageSize } from "./store.ts";
import type { SqlValue, TaskRowCodec } from "./task-rows.ts";

const { tasks, taskEvents, taskLogs } = schema;
const ACTIVE: TaskStatus[] = [...ACTIVE_STATUSES];
/** The final statuses as an SQL list; they are constants, never user input. */
const FINAL_SQL_LIST = FINAL_STATUSES.map((status) => `'${status}'`).join(", ");
/** Built once: every task page reads it, and building the text again cost each a string and its hash. */
const TASK_WITH_TREE_PROBE = `SELECT t.*, ${treeProbeColumns("t.id")} FROM tasks t WHERE t.id = ?`;

/**
 * The SQLite store's reads of tasks: single tasks, lists and pages, history pages, counts,
 * ended counts and rate starts. Every task row is decoded by the row codec.
 */
export class SqliteTaskReads {
  readonly #sqlite: Database;
  readonly #db: SqliteDb;
  readonly #rows: TaskRowCodec;
  readonly #statements: SqliteStatements;

  constructor(sqlite: Database, db: SqliteDb, rows: TaskRowCodec, statements: SqliteStatements) {
    this.#sqlite = sqlite;
    this.#db = db;
    this.#rows = rows;
    this.#statements = statements;
  }

  getTask(id: string): TaskRecord | undefined {
    const row = this.#statements.statement("SELECT * FROM tasks WHERE id = ?").get(id);
    return row ? this.#rows.fromRow(row) : undefined;
  }

  /**
   * A task's row with whether it spawned tasks and whether it waits on any, in one statement:
   * one statement reads one snapshot, so the task page of a task with neither (most of them)
   * needs no transaction and no second read.
   */
  getTaskWithTreeProbe(id: string): { task: TaskRecord; children: boolean; awaited: boolean } | undefined {
    const row = this.#statements.statement(TASK_WITH_TREE_PROBE).get(id);
    if (!row) return undefined;
    return {
      task: this.#rows.fromRow(row),
      children: row.tree_children === 1,
      awaited: row.tree_awaited === 1,
    };
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
    const { sql: text, params } = listTasksSql(query, "sqlite", limit + 1, this.#narrowEndWindow(query));
    const rows = this.#statements
      .statement(text)
      .all(...params)
      .map((row) => this.#rows.fromRow(row));
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  /** Whether fewer than END_WINDOW_INDEX_MAX tasks ended in the query's end-time window. */
  #narrowEndWindow(query: ListTasksQuery): boolean {
    if (!endTimeIndexApplies(query)) return false;
    const { sql: text, params } = endWindowCountSql(query);
    const row = this.#statements.rowStatement(text).get(...params);
    return Number(row?.n) < END_WINDOW_INDEX_MAX;
  }

  listActive(): TaskRecord[] {
    return this.#selectTasks(
      this.#db.select().from(tasks).where(inArray(tasks.status, ACTIVE)).orderBy(asc(tasks.id)),
    );
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

  /** Reads the newest tasks through the row codec, which throws on a value it cannot decrypt. */
  verifyNewestReadable(): void {
    // The newest rows show which key the database is written with now: a missing or wrong key
    // is refused here, at start-up, rather than on the first read of an API client.
    for (const row of this.#statements.statement("SELECT * FROM tasks ORDER BY id DESC LIMIT 100").all()) {
      this.#rows.fromRow(row);
    }
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
    return this.#statements
      .rowStatement(RECENT_RATE_STARTS_SQL)
      .all(name, since - LAST_RUN_SLACK_MS, since, perKey)
      .map((row) => ({ rateKey: row.rate_key as string, at: Number(row.at) }));
  }

  /**
   * Runs a query drizzle built over `tasks` and decodes its rows with the row codec, so that
   * every task read goes through the one place that decrypts.
   */
  #selectTasks(query: { toSQL(): { sql: string; params: unknown[] } }): TaskRecord[] {
    const { sql: text, params } = query.toSQL();
    return this.#statements
      .statement(text)
      .all(...(params as SqlValue[]))
      .map((row) => this.#rows.fromRow(row));
  }

  #page<T extends { id: number }>(rows: T[], limit: number): Page<T, number> {
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }
}
