import { uuidV7Floor } from "./id-ranges.ts";
import type { ListTasksQuery } from "./records.ts";
import type { SqlValue } from "./task-rows.ts";

export type ListDialect = "sqlite" | "postgres";

/**
 * How long before its `created_at` a task's id may have been made. The id (a UUIDv7, whose
 * first 48 bits are its millisecond) is drawn before the row is written, in the same turn, so a
 * task's id is never later than its creation time, and earlier by the time the create waited
 * for its commit. A lower bound on the creation time becomes a lower bound on the id this much
 * earlier, and the exact bound is checked on the column.
 */
export const CREATED_ID_SLACK_MS = 10_000;

/** Statements by the shape of their query (which filters, how many params fields): a few per store. */
const statements = new Map<string, string>();

/**
 * Up to this many tasks ended in a window, SQLite reads its page through the end-time index;
 * beyond, by walking the tasks newest first. SQLite has no statistics to choose by (no ANALYZE),
 * and left to itself it walks: fast when the window is wide (the newest tasks are in it), but it
 * reads every task when few or none ended in the window (300 ms at 1,000,000 tasks). Through the
 * index, a window is read whole and its ids sorted: at most this many, a few ms.
 */
export const END_WINDOW_INDEX_MAX = 1_000;

/** Whether a page of `query` may be read through SQLite's end-time index. */
export function endTimeIndexApplies(query: ListTasksQuery): boolean {
  return (
    (query.endedAfter !== undefined || query.endedBefore !== undefined) &&
    !query.tag &&
    (query.params?.length ?? 0) === 0
  );
}

/**
 * SQLite's count of the tasks that ended in the query's window, read from the end-time index and
 * stopped at END_WINDOW_INDEX_MAX: below it, `listTasksSql`'s `endTimeIndex` plan is the one to
 * use. Only where `endTimeIndexApplies`.
 */
export function endWindowCountSql(query: ListTasksQuery): { sql: string; params: SqlValue[] } {
  const bounds: string[] = [];
  const params: SqlValue[] = [];
  if (query.endedAfter !== undefined) {
    bounds.push("end_time >= ?");
    params.push(query.endedAfter);
  }
  if (query.endedBefore !== undefined) {
    bounds.push("end_time < ?");
    params.push(query.endedBefore);
  }
  const window = bounds.join(" AND ");
  return {
    sql: `SELECT count(*) AS n FROM (SELECT 1 FROM tasks INDEXED BY tasks_end_time WHERE ${window} LIMIT ${END_WINDOW_INDEX_MAX})`,
    params,
  };
}

function shapeKey(query: ListTasksQuery, dialect: ListDialect, endTimeIndex: boolean): string {
  const has = (value: unknown) => (value === undefined || value === "" ? "0" : "1");
  return [
    dialect,
    endTimeIndex ? "e" : "-",
    has(query.status),
    has(query.name),
    has(query.tag),
    has(query.cursor),
    has(query.createdAfter),
    has(query.createdBefore),
    has(query.endedAfter),
    has(query.endedBefore),
    query.params?.length ?? 0,
  ].join("");
}

function build(query: ListTasksQuery, dialect: ListDialect, endTimeIndex: boolean): string {
  let next = 1;
  const slot = () => (dialect === "sqlite" ? "?" : `$${next++}`);
  const conditions: string[] = [];
  const fields = query.params ?? [];
  // With a params field, its index (path, value, task id) drives the page newest first and the
  // task rows are joined by key; SQLite's CROSS JOIN keeps that order of the loops. On SQLite a
  // tag without params fields drives the page the same way, from task_tags (tag, task id).
  const tagDrives = dialect === "sqlite" && Boolean(query.tag) && fields.length === 0;
  const idColumn = fields.length > 0 ? "p.task_id" : tagDrives ? "g.task_id" : "t.id";
  let from = tagDrives
    ? "task_tags g CROSS JOIN tasks t ON t.id = g.task_id"
    : endTimeIndex
      ? "tasks t INDEXED BY tasks_end_time"
      : "tasks t";
  if (fields.length > 0) {
    from =
      dialect === "sqlite"
        ? "task_params p CROSS JOIN tasks t ON t.id = p.task_id"
        : "task_params p JOIN tasks t ON t.id = p.task_id";
    conditions.push(`p.path = ${slot()}`, `p.value = ${slot()}`);
    for (let i = 1; i < fields.length; i++) {
      conditions.push(
        `EXISTS (SELECT 1 FROM task_params q${i} WHERE q${i}.task_id = t.id AND q${i}.path = ${slot()} AND q${i}.value = ${slot()})`,
      );
    }
  }
  // A bound on the id, on the column the page walks. On PostgreSQL the task rows' key gets the
  // same bound too: a merge join otherwise walks tasks from the newest down to the cursor.
  const idBound = (op: "<" | ">=") => {
    const value = slot();
    return dialect === "postgres" && fields.length > 0
      ? `p.task_id ${op} ${value} AND t.id ${op} ${value}`
      : `${idColumn} ${op} ${value}`;
  };
  if (query.status) conditions.push(`t.status = ${slot()}`);
  if (query.name) conditions.push(`t.task_name = ${slot()}`);
  if (query.tag) {
    conditions.push(
      dialect === "postgres"
        ? // jsonb containment: the tags array holds this tag (the GIN index answers it).
          `t.tags @> ${slot()}`
        : tagDrives
          ? `g.tag = ${slot()}`
          : `EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = t.id AND g.tag = ${slot()})`,
    );
  }
  if (query.cursor) conditions.push(idBound("<"));
  // Ids sort by creation time, so a time bound is also a range of the key the page walks.
  if (query.createdAfter !== undefined) conditions.push(idBound(">="), `t.created_at >= ${slot()}`);
  if (query.createdBefore !== undefined) conditions.push(idBound("<"), `t.created_at < ${slot()}`);
  if (query.endedAfter !== undefined) conditions.push(`t.end_time >= ${slot()}`);
  // A task cannot end before it was created: only ids below the bound's floor can qualify.
  if (query.endedBefore !== undefined) conditions.push(idBound("<"), `t.end_time < ${slot()}`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  return `SELECT t.* FROM ${from}${where} ORDER BY ${idColumn} DESC LIMIT ${slot()}`;
}

/**
 * The query of a page of tasks, newest first (keyset on the id), with its parameters; `rows`
 * is the row limit (a page and one more, to tell whether another page follows). On SQLite,
 * `endTimeIndex` reads an end-time window from its index, then sorts the window's ids, instead of
 * walking the tasks newest first; only where `endTimeIndexApplies`.
 */
export function listTasksSql(
  query: ListTasksQuery,
  dialect: ListDialect,
  rows: number,
  endTimeIndex = false,
): { sql: string; params: SqlValue[] } {
  if (endTimeIndex && (dialect !== "sqlite" || !endTimeIndexApplies(query))) {
    throw new Error("the end-time index plan is SQLite's, for an end-time window without tag or params");
  }
  const key = shapeKey(query, dialect, endTimeIndex);
  let sql = statements.get(key);
  if (!sql) {
    sql = build(query, dialect, endTimeIndex);
    statements.set(key, sql);
  }
  const params: SqlValue[] = [];
  for (const field of query.params ?? []) params.push(field.path, field.value);
  if (query.status) params.push(query.status);
  if (query.name) params.push(query.name);
  if (query.tag) params.push(dialect === "sqlite" ? query.tag : JSON.stringify([query.tag]));
  if (query.cursor) params.push(query.cursor);
  if (query.createdAfter !== undefined) {
    params.push(uuidV7Floor(query.createdAfter - CREATED_ID_SLACK_MS), query.createdAfter);
  }
  if (query.createdBefore !== undefined) params.push(uuidV7Floor(query.createdBefore), query.createdBefore);
  if (query.endedAfter !== undefined) params.push(query.endedAfter);
  if (query.endedBefore !== undefined) params.push(uuidV7Floor(query.endedBefore), query.endedBefore);
  params.push(rows);
  return { sql, params };
}
