import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "../schedule-records.ts";
import { fireFromRow, POSTGRES_DIALECT, type Row, ScheduleSql } from "../schedule-rows.ts";
import type { SealedJson } from "../sealed-json.ts";
import { pageSize } from "../store.ts";
import type { SqlValue } from "../task-rows.ts";

/** Sends one statement: on the pool, in a transaction or in a savepoint, as the caller's writes do. */
export type RunStatement = (text: string, params: readonly SqlValue[]) => Promise<Row[]>;

/**
 * The PostgreSQL store's schedule statements, on whatever `run` sends them through. Each is one
 * statement (atomic on its own); a firing groups them in one transaction.
 */
export class PostgresSchedules {
  readonly #sql: ScheduleSql;

  constructor(
    private readonly run: RunStatement,
    /** The store's codec's: params are encrypted like a task's. */
    sealed: SealedJson,
  ) {
    this.#sql = new ScheduleSql(POSTGRES_DIALECT, sealed);
  }

  async createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    const { sql, params } = this.#sql.insert(schedule, Date.now());
    const [row] = await this.run(sql, params);
    if (!row) throw new Error("insert returned no row");
    return this.#sql.fromRow(row);
  }

  async updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined> {
    const { sql, params } = this.#sql.update(id, patch, Date.now());
    const [row] = await this.run(sql, params);
    return row ? this.#sql.fromRow(row) : undefined;
  }

  async deleteSchedule(id: string): Promise<boolean> {
    const { sql, params } = this.#sql.delete(id);
    return (await this.run(sql, params)).length > 0;
  }

  async getSchedule(id: string, options: { lock?: boolean } = {}): Promise<ScheduleRecord | undefined> {
    const { sql, params } = this.#sql.get(id, options.lock === true);
    const [row] = await this.run(sql, params);
    return row ? this.#sql.fromRow(row) : undefined;
  }

  async recordScheduleFire(fire: NewScheduleFire): Promise<boolean> {
    const { sql, params } = this.#sql.insertFire(fire);
    return (await this.run(sql, params)).length > 0;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const { sql, params } = this.#sql.list();
    return (await this.run(sql, params)).map((row) => this.#sql.fromRow(row));
  }

  async listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    const { sql, params } = this.#sql.listFires(scheduleId, pageSize(limit));
    return (await this.run(sql, params)).map(fireFromRow);
  }

  async listQueuedFires(): Promise<ScheduleFireRecord[]> {
    const { sql, params } = this.#sql.queuedFires();
    return (await this.run(sql, params)).map(fireFromRow);
  }
}
