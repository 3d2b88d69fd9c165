import type { TaskPatch, TaskRecord } from "./records.ts";

/** Column of each TaskRecord field, in the order of the `tasks` table. */
export const TASK_COLUMNS = {
  id: "id",
  taskName: "task_name",
  status: "status",
  statusReason: "status_reason",
  params: "params",
  result: "result",
  error: "error",
  progress: "progress",
  checkpoint: "checkpoint",
  attempt: "attempt",
  retries: "retries",
  priority: "priority",
  runAt: "run_at",
  requestedAction: "requested_action",
  idempotencyKey: "idempotency_key",
  tags: "tags",
  startTime: "start_time",
  endTime: "end_time",
  lastRunTime: "last_run_time",
  createdAt: "created_at",
  updatedAt: "updated_at",
} as const satisfies Record<keyof TaskRecord, string>;

const JSON_FIELDS = new Set<keyof TaskRecord>([
  "params",
  "result",
  "error",
  "progress",
  "checkpoint",
  "tags",
]);

export type SqlValue = string | number | null;
export type TaskRow = Record<string, SqlValue>;

/** A field's value as bound to SQL: JSON columns are stored as text, SQL NULL for null or undefined. */
export function toSql(field: keyof TaskRecord, value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (JSON_FIELDS.has(field)) return JSON.stringify(value) ?? null;
  return value as SqlValue;
}

/** A `tasks` row as read by bun:sqlite, turned into the record the rest of kiln uses. */
export function fromRow(row: TaskRow): TaskRecord {
  const record: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(TASK_COLUMNS)) {
    const value = row[column] ?? null;
    record[field] =
      JSON_FIELDS.has(field as keyof TaskRecord) && typeof value === "string" ? JSON.parse(value) : value;
  }
  return record as unknown as TaskRecord;
}

/**
 * The SET clause and bound values of a patch. `startTime` records the first start: a number
 * only fills an empty column, an explicit null clears it.
 */
export function setClause(patch: TaskPatch, now: number): { sql: string; values: SqlValue[] } {
  const parts: string[] = [];
  const values: SqlValue[] = [];
  for (const field of Object.keys(patch).sort() as (keyof TaskPatch)[]) {
    const value = patch[field];
    if (value === undefined) continue;
    const column = TASK_COLUMNS[field];
    parts.push(
      field === "startTime" && value !== null ? `${column} = coalesce(${column}, ?)` : `${column} = ?`,
    );
    values.push(toSql(field, value));
  }
  parts.push("updated_at = ?");
  values.push(now);
  return { sql: parts.join(", "), values };
}
