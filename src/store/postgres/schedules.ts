import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "../schedule-records.ts";
import { fireFromRow, POSTGRES_DIALECT, type Row, ScheduleSql, scheduleFromRow } from "../schedule-rows.ts";
import { pageSize } from "../store.ts";
import type { SqlValue } from "../task-rows.ts";

const SCHEDULE_SQL = new ScheduleSql(POSTGRES_DIALECT);

/** Sends one statement: on the pool, in a transaction or in a savepoint, as the caller's writes do. */
export type RunStatement = (text: string, params: readonly SqlValue[]) => Promise<Row[]>;

/**
 * The PostgreSQL store's schedule statements, on whatever `run` sends them through. Each is one
 * statement (atomic on its own); a firing groups them in one transaction.
 */
export class PostgresSchedules {
  constructor(private readonly run: RunStatement) {}

  async createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    const { sql, params } = SCHEDULE_SQL.insert(schedule, Date.now());
    const [row] = await this.run(sql, params);
    if (!row) throw new Error("insert returned no row");
    return scheduleFromRow(row);
  }

  async updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    const { sql, params } = SCHEDULE_SQL.update(id, patch, Date.now());
    const [row] = await this.run(sql, params);
    return row ? scheduleFromRow(row) : undefined;
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const { sql, params } = SCHEDULE_SQL.delete(id);
    return (await this.run(sql, params)).length > 0;
  }

  async getSchedule(id: string, options: { lock?: boolean } = {}): Promise<ScheduleRecord | undefined> {
    const { sql, params } = SCHEDULE_SQL.get(id, options.lock === true);
    const [row] = await this.run(sql, params);
    return row ? scheduleFromRow(row) : undefined;
  }

  async recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    const { sql, params } = SCHEDULE_SQL.insertFire(fire);
    return (await this.run(sql, params)).length > 0;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const { sql, params } = SCHEDULE_SQL.list();
    return (await this.run(sql, params)).map(scheduleFromRow);
  }

  async listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    const { sql, params } = SCHEDULE_SQL.listFires(scheduleId, pageSize(limit));
    return (await this.run(sql, params)).map(fireFromRow);
  }

  async listQueuedFires(): Promise<ScheduleFireRecord[]> {
    const { sql, params } = SCHEDULE_SQL.queuedFires();
    return (await this.run(sql, params)).map(fireFromRow);
  }
}
