import type { Statement } from "bun:sqlite";
import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "./schedule-records.ts";
import { fireFromRow, type Row, type ScheduleSql, SQLITE_DIALECT } from "./schedule-rows.ts";
import { pageSize } from "./store.ts";
import type { SqlValue } from "./task-rows.ts";
import { type TaskTypePause, TaskTypePauseSql, taskTypePauseFromRow } from "./task-type-pauses.ts";

const PAUSE_SQL = new TaskTypePauseSql(SQLITE_DIALECT);

/** The SQLite store's statements of schedules, their fires and paused task names (synchronous, on its connection). */
export class SqliteSchedules {
  constructor(
    private readonly schedules: ScheduleSql,
    /** A statement of the store's cache (compiled once per text). */
    private readonly statement: (sql: string) => Statement<Row, SqlValue[]>,
  ) {}

  createSchedule(schedule: NewSchedule): ScheduleRecord {
    const { sql: text, params } = this.schedules.insert(schedule, Date.now());
    const row = this.statement(text).get(...params);
    if (!row) throw new Error("insert returned no row");
    return this.schedules.fromRow(row);
  }

  updateSchedule(id: string, patch: SchedulePatch): ScheduleRecord | undefined {
    const { sql: text, params } = this.schedules.update(id, patch, Date.now());
    const row = this.statement(text).get(...params);
    return row ? this.schedules.fromRow(row) : undefined;
  }

  deleteSchedule(id: string): boolean {
    const { sql: text, params } = this.schedules.delete(id);
    return this.statement(text).all(...params).length > 0;
  }

  getSchedule(id: string): ScheduleRecord | undefined {
    const { sql: text, params } = this.schedules.get(id, false);
    const row = this.statement(text).get(...params);
    return row ? this.schedules.fromRow(row) : undefined;
  }

  recordScheduleFire(fire: NewScheduleFire): boolean {
    const { sql: text, params } = this.schedules.insertFire(fire);
    return this.statement(text).all(...params).length > 0;
  }

  listSchedules(): ScheduleRecord[] {
    const { sql: text, params } = this.schedules.list();
    return this.statement(text)
      .all(...params)
      .map((row) => this.schedules.fromRow(row));
  }

  listScheduleFires(scheduleId: string, limit: number): ScheduleFireRecord[] {
    const { sql: text, params } = this.schedules.listFires(scheduleId, pageSize(limit));
    return this.statement(text)
      .all(...params)
      .map(fireFromRow);
  }

  listQueuedFires(): ScheduleFireRecord[] {
    const { sql: text, params } = this.schedules.queuedFires();
    return this.statement(text)
      .all(...params)
      .map(fireFromRow);
  }

  pauseTaskType(pause: TaskTypePause): TaskTypePause {
    const { sql: text, params } = PAUSE_SQL.upsert(pause);
    const row = this.statement(text).get(...params);
    if (!row) throw new Error("upsert returned no row");
    return taskTypePauseFromRow(row);
  }

  resumeTaskType(taskName: string): boolean {
    const { sql: text, params } = PAUSE_SQL.delete(taskName);
    return this.statement(text).all(...params).length > 0;
  }

  listTaskTypePauses(): TaskTypePause[] {
    const { sql: text, params } = PAUSE_SQL.list();
    return this.statement(text)
      .all(...params)
      .map(taskTypePauseFromRow);
  }
}
