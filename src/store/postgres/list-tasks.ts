import type { ListTasksQuery } from "../records.ts";
import type { SqlValue } from "../task-rows.ts";

/** Which filters a query has, as bits: status 1, name 2, tag 4, cursor 8. */
const FILTERS = ["status", "name", "tag", "cursor"] as const;

/** One statement per combination of filters, built the first time it is asked for. */
const statements = new Map<number, string>();

function build(mask: number): string {
  const conditions: string[] = [];
  let next = 1;
  if (mask & 1) conditions.push(`status = $${next++}`);
  if (mask & 2) conditions.push(`task_name = $${next++}`);
  // jsonb containment: the tags array holds this tag.
  if (mask & 4) conditions.push(`tags @> $${next++}`);
  if (mask & 8) conditions.push(`id < $${next++}`);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  return `SELECT * FROM tasks${where} ORDER BY id DESC LIMIT $${next}`;
}

/**
 * The query of a page of tasks, newest first (keyset on the id), and its filter values; the
 * caller appends the row limit as the last parameter.
 */
export function listTasksSql(query: ListTasksQuery): { sql: string; params: SqlValue[] } {
  let mask = 0;
  const params: SqlValue[] = [];
  FILTERS.forEach((filter, bit) => {
    const value = query[filter];
    if (!value) return;
    mask |= 1 << bit;
    params.push(filter === "tag" ? JSON.stringify([value]) : value);
  });
  let sql = statements.get(mask);
  if (!sql) {
    sql = build(mask);
    statements.set(mask, sql);
  }
  return { sql, params };
}
