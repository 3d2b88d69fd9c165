import { MAX_JSON_DEPTH, nestsDeeperThan } from "../task/json-value.ts";
import {
  JsonText,
  type NewTask,
  type NewTaskColumns,
  type TaskPatch,
  type TaskRecord,
  UnreadableValue,
} from "./records.ts";
import { SealedJson } from "./sealed-json.ts";
import type { ValueCipher } from "./value-cipher.ts";

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
  traceparent: "traceparent",
  requestId: "request_id",
  parentId: "parent_id",
  activeMs: "active_ms",
  scheduleId: "schedule_id",
  scheduleFireTime: "schedule_fire_time",
  node: "node_id",
  leaseEpoch: "lease_epoch",
  rateKey: "rate_key",
  concurrencyKey: "concurrency_key",
  dependencyPolicy: "dependency_policy",
  awaiting: "awaiting",
} as const satisfies Record<keyof TaskRecord, string>;

const JSON_FIELDS = new Set<keyof TaskRecord>([
  "params",
  "result",
  "error",
  "progress",
  "checkpoint",
  "tags",
]);

/**
 * A new task's columns, without what is not one. A copy only for a task that opts out of
 * searchable params: the usual create, on the hottest path, keeps its object.
 */
export function newTaskColumns(task: NewTask): NewTaskColumns {
  if (task.searchableParams === undefined) return task;
  const { searchableParams: _notAColumn, ...columns } = task;
  return columns;
}

export type SqlValue = string | number | null;
export type TaskRow = Record<string, SqlValue>;

/**
 * Columns that hold what a task was given, returned and saved: encrypted at rest when a key is set.
 * The request context (traceparent, request id) and the parent id are identifiers, not secrets,
 * and stay in plaintext so they can be looked up.
 */
export const SECRET_FIELDS = [
  "params",
  "result",
  "checkpoint",
] as const satisfies readonly (keyof TaskRecord)[];
type SecretField = (typeof SECRET_FIELDS)[number];
const SECRET = new Set<keyof TaskRecord>(SECRET_FIELDS);

/** Each field with its column and how its value is stored, in table order. */
const ROW_FIELDS = (Object.keys(TASK_COLUMNS) as (keyof TaskRecord)[]).map((field) => ({
  field,
  column: TASK_COLUMNS[field],
  json: JSON_FIELDS.has(field),
  secret: SECRET.has(field),
}));

/** Each column's `column = ?`, made once rather than on every write that sets it. */
const SET_COLUMN = Object.fromEntries(
  Object.entries(TASK_COLUMNS).map(([field, column]) => [field, `${column} = ?`]),
) as Record<keyof TaskRecord, string>;
/** A start time only fills an empty column. */
const SET_FIRST_START = `${TASK_COLUMNS.startTime} = coalesce(${TASK_COLUMNS.startTime}, ?)`;

/**
 * A finished task shows 100 %: when its last progress had a total it did not reach, `done`
 * becomes the total (a task reports before a step more often than after the last one).
 */
const COMPLETE_PROGRESS =
  // The outer CASE: json_extract throws on text that is not JSON (a row altered outside kiln).
  "progress = CASE WHEN json_valid(progress) THEN (" +
  "CASE WHEN json_extract(progress, '$.total') > json_extract(progress, '$.done') " +
  "THEN json_set(progress, '$.done', json_extract(progress, '$.total')) ELSE progress END" +
  ") ELSE progress END";

type PatchField = keyof TaskPatch;
/**
 * Every field a patch may set, in the order its assignment takes in a SET clause; its place in
 * the list is its shape bit. A record rather than a list, so that a field added to `TaskPatch`
 * and not here fails to compile.
 */
const PATCH_ORDER = {
  status: true,
  statusReason: true,
  result: true,
  error: true,
  progress: true,
  checkpoint: true,
  attempt: true,
  retries: true,
  runAt: true,
  requestedAction: true,
  startTime: true,
  endTime: true,
  lastRunTime: true,
  activeMs: true,
  node: true,
  awaiting: true,
  addActiveMs: true,
  completeProgress: true,
} as const satisfies Record<PatchField, true>;
const PATCH_ASSIGNMENTS = Object.keys(PATCH_ORDER) as PatchField[];
/** The shape bit of a start time that only fills an empty column (`SET_FIRST_START`). */
const FIRST_START_BIT = 1 << PATCH_ASSIGNMENTS.length;

/** The assignment of one field of a shape: `SET_FIRST_START` for a start time that only fills. */
function assignment(field: PatchField, shape: number): string | undefined {
  if (field === "startTime" && shape & FIRST_START_BIT) return SET_FIRST_START;
  if (!(shape & (1 << PATCH_ASSIGNMENTS.indexOf(field)))) return undefined;
  if (field === "addActiveMs") return "active_ms = active_ms + ?";
  if (field === "completeProgress") return COMPLETE_PROGRESS;
  return SET_COLUMN[field];
}

const SET_CLAUSES = new Map<number, string>();
/** The SET clause of a shape (see `TaskRowCodec.setClause`), made once per shape. */
function setClauseText(shape: number): string {
  let text = SET_CLAUSES.get(shape);
  if (text === undefined) {
    const parts = PATCH_ASSIGNMENTS.flatMap((field) => assignment(field, shape) ?? []);
    parts.push("updated_at = ?");
    text = parts.join(", ");
    SET_CLAUSES.set(shape, text);
  }
  return text;
}

/** A patch as SQL: see `TaskRowCodec.setClause`. */
export interface SetClause {
  sql: string;
  values: SqlValue[];
  jsonTexts: Partial<Record<keyof TaskPatch, string>> | undefined;
  shape: number;
}

/**
 * A JSON column's value. Text that is not JSON, or nests deeper than anything kiln writes (so
 * that sending it back would overflow the stack), reads as an `UnreadableValue` rather than
 * failing every read of the row: the row was altered outside kiln, and the task must stay
 * readable and deletable.
 */
function parseStored(text: string, column: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return new UnreadableValue(`tasks.${column} holds text that is not JSON (${(error as Error).message})`);
  }
  // Only text this long can nest that deep: short values, nearly all of them, skip the scan.
  if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    return new UnreadableValue(`tasks.${column} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

/** What `ValueCipher.decrypt` authenticates with a value: which column of which task it belongs to. */
export const secretContext = (column: string, taskId: string) => `tasks.${column} of task ${taskId}`;

/**
 * Turns task records into SQL values and rows back into records: the one place where JSON
 * columns are encoded and where the secret ones are encrypted and decrypted, so nothing
 * above the store ever sees a ciphertext.
 */
export class TaskRowCodec {
  /** How the secret columns are stored; schedules' params are stored the same way. */
  readonly sealed: SealedJson;

  constructor(
    readonly cipher: ValueCipher | undefined,
    /** How JSON columns hold a ciphertext: see `SealedJson`. */
    readonly columns: "text" | "json" = "text",
  ) {
    this.sealed = new SealedJson(cipher, columns);
  }

  /** A field's value as bound to SQL: JSON columns are stored as text, SQL NULL for null or undefined. */
  toSql(field: keyof TaskRecord, value: unknown, taskId: string): SqlValue {
    if (value === undefined || value === null) return null;
    if (!JSON_FIELDS.has(field)) return value as SqlValue;
    const json = value instanceof JsonText ? value.text : (JSON.stringify(value) ?? null);
    if (json === null || !SECRET.has(field)) return json;
    return this.sealed.seal(json, secretContext(TASK_COLUMNS[field], taskId));
  }

  /** A `tasks` row as read by bun:sqlite, turned into the record the rest of kiln uses. */
  fromRow(row: TaskRow): TaskRecord {
    const record: Record<string, unknown> = {};
    const id = String(row.id);
    // Runs for every task read and written back: a fixed list, not Object.entries per row.
    for (const { field, column, json, secret } of ROW_FIELDS) {
      const value = row[column] ?? null;
      if (typeof value !== "string" || !json) record[field] = value;
      else record[field] = parseStored(secret ? this.plaintext(value, column, id) : value, column);
    }
    return record as unknown as TaskRecord;
  }

  /** The JSON text of a stored secret column, whether it was written encrypted or not. */
  plaintext(stored: string, column: string, taskId: string): string {
    return this.sealed.open(stored, secretContext(column, taskId));
  }

  /** True when a stored secret value is already what `toSql` would write now (rekey skips it). */
  isCurrent(stored: string): boolean {
    return this.sealed.isCurrent(stored);
  }

  /** The stored value of a secret column re-written under the current key (or as plaintext without one). */
  reencode(field: SecretField, stored: string, taskId: string): string {
    return this.sealed.reseal(stored, secretContext(TASK_COLUMNS[field], taskId));
  }

  /**
   * The SET clause and bound values of a patch. `startTime` records the first start: a number
   * only fills an empty column, an explicit null clears it. `addActiveMs` adds to the column and
   * `completeProgress` completes the stored progress, both in SQL, so the row is not read first.
   * `jsonTexts`: the JSON text bound for each JSON column set, where it is stored as plain JSON
   * (no key), for a caller that needs the value as it reads back without encoding it again.
   * `shape`: which assignments the clause holds, one bit each; equal shapes have equal SQL text,
   * so a statement can be looked up by it without the text being built and hashed again.
   */
  setClause(patch: TaskPatch, now: number, taskId: string): SetClause {
    const values: SqlValue[] = [];
    let jsonTexts: Partial<Record<keyof TaskPatch, string>> | undefined;
    let shape = 0;
    // A fixed order, whatever the order of the patch's keys: the shape alone decides the text.
    for (let i = 0; i < PATCH_ASSIGNMENTS.length; i++) {
      const field = PATCH_ASSIGNMENTS[i] as PatchField;
      const value = patch[field];
      if (value === undefined) continue;
      if (field === "addActiveMs") {
        shape |= 1 << i;
        values.push(Math.max(0, Math.round(value as number)));
        continue;
      }
      if (field === "completeProgress") {
        shape |= 1 << i;
        continue;
      }
      shape |= field === "startTime" && value !== null ? FIRST_START_BIT : 1 << i;
      const bound = this.toSql(field, value, taskId);
      values.push(bound);
      if (typeof bound === "string" && this.cipher === undefined && JSON_FIELDS.has(field)) {
        jsonTexts ??= {};
        jsonTexts[field] = bound;
      }
    }
    values.push(now);
    return { sql: setClauseText(shape), values, jsonTexts, shape };
  }
}
