import type { TaskPatch } from "../records.ts";
import { type SqlValue, TASK_COLUMNS, type TaskRowCodec } from "../task-rows.ts";

/**
 * A finished task shows 100 %: when its last progress had a total it did not reach, `done`
 * becomes the total. Done with json's functions, key by key in order, so the rest of the
 * value stays as written; a progress without both numbers (or not an object) stays as it is.
 */
const COMPLETE_PROGRESS =
  "CASE WHEN json_typeof(progress) = 'object' AND json_typeof(progress -> 'total') = 'number' " +
  "AND json_typeof(progress -> 'done') = 'number' " +
  "AND (progress ->> 'total')::numeric > (progress ->> 'done')::numeric " +
  "THEN (SELECT json_object_agg(field.key, CASE WHEN field.key = 'done' THEN progress -> 'total' ELSE field.value END " +
  "ORDER BY field.n) FROM json_each(progress) WITH ORDINALITY AS field(key, value, n)) " +
  "ELSE progress END";

/** The SET clause of a patch shape, with the patch field behind each of its `$n` in order. */
export interface SetShape {
  sql: string;
  /** The field each parameter comes from, in `$n` order (`addActiveMs` included). */
  fields: Array<keyof TaskPatch>;
  /** Its parameters: one per field, and `updated_at` last. */
  params: number;
  /** The whole statements made with this clause, by the caller's key: built once. */
  statements: Map<string, string>;
}

/**
 * Builds the SET clauses of task patches as PostgreSQL text with numbered parameters, and keeps
 * each shape's text: call sites build their patches with the same keys in the same order, so a
 * handful of shapes cover every write, and each is one prepared statement per connection.
 */
export class PatchSql {
  readonly #shapes = new Map<string, SetShape>();

  constructor(readonly codec: TaskRowCodec) {}

  /**
   * The SET clause of `patch`, its parameters numbered from $1, and their values (the last one
   * is `updated_at`). Semantics as SQLite's `setClause`: `startTime` only fills an empty column
   * unless it is null, `addActiveMs` adds, `completeProgress` completes the stored progress; a
   * column assigned twice (activeMs and addActiveMs) keeps the later assignment, as in SQLite.
   */
  build(patch: TaskPatch, now: number, taskId: string): { shape: SetShape; values: SqlValue[] } {
    let key = "";
    for (const field in patch) {
      const value = patch[field as keyof TaskPatch];
      if (value === undefined) continue;
      key += field === "startTime" && value === null ? ",startTime=null" : `,${field}`;
    }
    let shape = this.#shapes.get(key);
    if (!shape) {
      shape = this.#shape(patch);
      this.#shapes.set(key, shape);
    }
    const values: SqlValue[] = [];
    for (const field of shape.fields) {
      const value = patch[field];
      if (field === "addActiveMs") values.push(Math.max(0, Math.round(value as number)));
      else values.push(this.codec.toSql(field as keyof typeof TASK_COLUMNS, value, taskId));
    }
    values.push(now);
    return { shape, values };
  }

  #shape(patch: TaskPatch): SetShape {
    const assignments = new Map<string, { expression: string; field?: keyof TaskPatch }>();
    for (const field of Object.keys(patch) as (keyof TaskPatch)[]) {
      const value = patch[field];
      if (value === undefined) continue;
      if (field === "addActiveMs") {
        assignments.delete("active_ms");
        assignments.set("active_ms", { expression: "active_ms + $?", field });
      } else if (field === "completeProgress") {
        assignments.delete("progress");
        assignments.set("progress", { expression: COMPLETE_PROGRESS });
      } else {
        const column = TASK_COLUMNS[field];
        const expression = field === "startTime" && value !== null ? `coalesce(${column}, $?)` : "$?";
        assignments.delete(column);
        assignments.set(column, { expression, field });
      }
    }
    const parts: string[] = [];
    const fields: Array<keyof TaskPatch> = [];
    let next = 1;
    for (const [column, { expression, field }] of assignments) {
      parts.push(`${column} = ${expression.replace("$?", () => `$${next++}`)}`);
      if (field !== undefined) fields.push(field);
    }
    parts.push(`updated_at = $${next}`);
    return { sql: parts.join(", "), fields, params: next, statements: new Map() };
  }
}
