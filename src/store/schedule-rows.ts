/**
 * Schedule and fire rows in both dialects: the column list, the SQL of each statement written
 * once with a placeholder function (`?` for SQLite, `$n` for PostgreSQL), and the decoding of a
 * row. JSON columns arrive as text from both drivers; `paused` as 0/1 from SQLite and a boolean
 * from PostgreSQL. `params` (what every fired task is given) is a secret like a task's params:
 * stored through the store's `SealedJson`, encrypted when a key is set.
 */
import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "./schedule-records.ts";
import type { SealedJson } from "./sealed-json.ts";
import type { SqlValue } from "./task-rows.ts";

export const SCHEDULE_COLUMNS = {
  id: "id",
  taskName: "task_name",
  cron: "cron",
  everyMs: "every_ms",
  timezone: "timezone",
  params: "params",
  priority: "priority",
  tags: "tags",
  misfire: "misfire",
  backfillMs: "backfill_ms",
  overlap: "overlap",
  paused: "paused",
  source: "source",
  nextRunAt: "next_run_at",
  lastRunAt: "last_run_at",
  lastTaskId: "last_task_id",
  createdAt: "created_at",
  updatedAt: "updated_at",
} as const satisfies Record<keyof ScheduleRecord, string>;

/** The fire columns under the record's names, of the table aliased `f`. */
const FIRE_SELECT = `f.id, f.schedule_id AS "scheduleId", f.fire_time AS "fireTime", f.task_id AS "taskId",
  f.skip_reason AS "skipReason", f.waits_for AS "waitsFor", f.recorded_at AS "recordedAt"`;

export type Row = Record<string, unknown>;

/** How a dialect writes a parameter and a boolean. */
export interface Dialect {
  /** The n-th (1-based) placeholder. */
  param(n: number): string;
  bool(value: boolean): SqlValue;
}

export const SQLITE_DIALECT: Dialect = { param: () => "?", bool: (value) => (value ? 1 : 0) };
export const POSTGRES_DIALECT: Dialect = {
  param: (n) => `$${n}`,
  // postgres.js serialises a boolean parameter itself (and only a real boolean as true).
  bool: (value) => value as unknown as SqlValue,
};

/** What `ValueCipher.decrypt` authenticates with a schedule's params: the column and the schedule. */
export const scheduleSecretContext = (scheduleId: string) => `schedules.params of schedule ${scheduleId}`;

function sqlValue(
  dialect: Dialect,
  sealed: SealedJson,
  scheduleId: string,
  field: keyof ScheduleRecord,
  value: unknown,
): SqlValue {
  if (value === undefined || value === null) return null;
  if (field === "params") {
    const json = JSON.stringify(value);
    return json === undefined ? null : sealed.seal(json, scheduleSecretContext(scheduleId));
  }
  if (field === "tags") return JSON.stringify(value) ?? null;
  if (field === "paused") return dialect.bool(value === true);
  return value as SqlValue;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    // A row altered outside kiln: shown as its text rather than failing every read.
    return value;
  }
}

/**
 * A `schedules` row as the rest of kiln sees it. Params under a key the store was not given
 * throw `UndecryptableValueError`, as a task's values do.
 */
export function scheduleFromRow(row: Row, sealed: SealedJson): ScheduleRecord {
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const tags = parseJson(row.tags);
  const id = String(row.id);
  const params =
    typeof row.params === "string" ? sealed.open(row.params, scheduleSecretContext(id)) : row.params;
  return {
    id,
    taskName: String(row.task_name),
    cron: (row.cron as string | null) ?? null,
    everyMs: number(row.every_ms),
    timezone: (row.timezone as string | null) ?? null,
    params: parseJson(params) ?? undefined,
    priority: Number(row.priority),
    tags: Array.isArray(tags) ? (tags as string[]) : null,
    misfire: row.misfire as ScheduleRecord["misfire"],
    backfillMs: number(row.backfill_ms),
    overlap: row.overlap as ScheduleRecord["overlap"],
    paused: row.paused === true || row.paused === 1,
    source: row.source as ScheduleRecord["source"],
    nextRunAt: number(row.next_run_at),
    lastRunAt: number(row.last_run_at),
    lastTaskId: (row.last_task_id as string | null) ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fireFromRow(row: Row): ScheduleFireRecord {
  return {
    id: Number(row.id),
    scheduleId: String(row.scheduleId),
    fireTime: Number(row.fireTime),
    taskId: (row.taskId as string | null) ?? null,
    skipReason: (row.skipReason as string | null) ?? null,
    waitsFor: (row.waitsFor as string | null) ?? null,
    recordedAt: Number(row.recordedAt),
  };
}

export interface Statement {
  sql: string;
  params: SqlValue[];
}

/** The schedule statements of one dialect. */
export class ScheduleSql {
  constructor(
    readonly dialect: Dialect,
    /** The store's encoding of secret values (its key, its column kind). */
    readonly sealed: SealedJson,
  ) {}

  /** A row any of these statements returned, decoded (and its params decrypted). */
  fromRow(row: Row): ScheduleRecord {
    return scheduleFromRow(row, this.sealed);
  }

  #params(count: number, first = 1): string {
    return Array.from({ length: count }, (_, i) => this.dialect.param(first + i)).join(", ");
  }

  insert(schedule: NewSchedule, now: number): Statement {
    const fields = Object.keys(schedule) as (keyof NewSchedule)[];
    const columns = [...fields.map((field) => SCHEDULE_COLUMNS[field]), "updated_at"];
    const params = [
      ...fields.map((field) => sqlValue(this.dialect, this.sealed, schedule.id, field, schedule[field])),
      now,
    ];
    return {
      sql: `INSERT INTO schedules (${columns.join(", ")}) VALUES (${this.#params(columns.length)}) RETURNING *`,
      params,
    };
  }

  update(id: string, patch: SchedulePatch, now: number): Statement {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    for (const field of Object.keys(patch) as (keyof SchedulePatch)[]) {
      if (patch[field] === undefined) continue;
      params.push(sqlValue(this.dialect, this.sealed, id, field, patch[field]));
      sets.push(`${SCHEDULE_COLUMNS[field]} = ${this.dialect.param(params.length)}`);
    }
    params.push(now);
    sets.push(`updated_at = ${this.dialect.param(params.length)}`);
    params.push(id);
    return {
      sql: `UPDATE schedules SET ${sets.join(", ")} WHERE id = ${this.dialect.param(params.length)} RETURNING *`,
      params,
    };
  }

  get(id: string, lock: boolean): Statement {
    return {
      sql: `SELECT * FROM schedules WHERE id = ${this.dialect.param(1)}${lock ? " FOR UPDATE" : ""}`,
      params: [id],
    };
  }

  delete(id: string): Statement {
    return { sql: `DELETE FROM schedules WHERE id = ${this.dialect.param(1)} RETURNING id`, params: [id] };
  }

  list(): Statement {
    return { sql: "SELECT * FROM schedules ORDER BY id", params: [] };
  }

  /** The fire, unless (schedule, fire time) already has one: then no row comes back. */
  insertFire(fire: NewScheduleFire): Statement {
    return {
      sql: `INSERT INTO schedule_fires (schedule_id, fire_time, task_id, skip_reason, waits_for, recorded_at)
        VALUES (${this.#params(6)}) ON CONFLICT (schedule_id, fire_time) DO NOTHING RETURNING id`,
      params: [fire.scheduleId, fire.fireTime, fire.taskId, fire.skipReason, fire.waitsFor, fire.recordedAt],
    };
  }

  listFires(scheduleId: string, limit: number): Statement {
    return {
      sql: `SELECT ${FIRE_SELECT} FROM schedule_fires f WHERE f.schedule_id = ${this.dialect.param(1)}
        ORDER BY f.fire_time DESC, f.id DESC LIMIT ${this.dialect.param(2)}`,
      params: [scheduleId, limit],
    };
  }

  /** Fires of overlap "queue" whose task still waits (PAUSED) for the one named. */
  queuedFires(): Statement {
    return {
      sql: `SELECT ${FIRE_SELECT} FROM schedule_fires f JOIN tasks t ON t.id = f.task_id
        WHERE f.waits_for IS NOT NULL AND t.status = 'PAUSED' ORDER BY f.fire_time, f.id`,
      params: [],
    };
  }
}
