import type { TaskStatus } from "../../task/index.ts";
import { uuidV7Floor } from "../id-ranges.ts";
import { searchableParamFields } from "../param-fields.ts";
import type {
  NewTask,
  NewTaskColumns,
  NewTaskEvent,
  TaskPatch,
  TaskRecord,
  TelemetryBatch,
} from "../records.ts";
import type { DeletedTask } from "../store.ts";
import { newTaskColumns, type SqlValue, TASK_COLUMNS, type TaskRowCodec } from "../task-rows.ts";
import type {
  ClaimRequest,
  FlowClaim,
  FlowClaimRequest,
  RunFence,
  TaskKeyColumns,
  TaskWrites,
} from "../task-store.ts";
import { type Executor, type Row, run } from "./client.ts";
import { CLUSTER_SQL } from "./cluster-sql.ts";
import { PostgresDependencies } from "./dependencies.ts";
import { postgresFaultOf } from "./faults.ts";
import type { PatchSql } from "./patch-sql.ts";
import { PostgresSchedules } from "./schedules.ts";
import { createSql, SQL, transitionSql, updateSql } from "./statements.ts";

/** What every set of writes shares: the row codec and the statement caches. */
export interface WriteContext {
  codec: TaskRowCodec;
  patches: PatchSql;
  /** INSERT statements by the task's field list. */
  creates: Map<string, { sql: string; fields: (keyof NewTaskColumns)[] }>;
}

const eventParams = (at: number, event: NewTaskEvent): SqlValue[] => [
  at,
  event.fromStatus,
  event.toStatus,
  event.action,
  event.reason,
  event.actor,
  event.source,
];

/**
 * The connection under a transaction, once a statement on it showed it is gone. postgres.js
 * writes the transaction's ROLLBACK or COMMIT, and any later statement of `fn`, onto the closed
 * connection object: with no socket that throws outside any promise (a crash), and once the
 * pool has reopened the object it corrupts the new session. So after that, nothing more is
 * sent on it: see `PostgresTaskStore.transaction`.
 */
export interface ConnectionWatch {
  lost: unknown;
  /**
   * Set when the transaction went past its deadline and its caller was told it failed: no more
   * of its statements are sent, and it ends in a ROLLBACK once the one under way is answered.
   */
  stalled?: unknown;
}

/**
 * A log line as PostgreSQL text can hold it. The batch goes out as one JSON document, in which
 * a NUL or a lone surrogate is an escape that cannot become text: one such line would fail its
 * whole batch. Both become U+FFFD, as every other text parameter's NUL does (see `run`), and as
 * a lone surrogate does on its way into SQLite.
 */
function storableText(message: string): string {
  const text = message.isWellFormed() ? message : message.toWellFormed();
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

const claimParams = (request: ClaimRequest): SqlValue[] => [
  request.node,
  request.leaseMs,
  request.limit,
  JSON.stringify(request.names),
  request.now,
];

/** foreign_key_violation: a task deleted between a telemetry statement's snapshot and its end. */
const isTaskGone = (error: unknown) => (error as { code?: unknown } | undefined)?.code === "23503";

/**
 * The writes of the PostgreSQL store on one executor: the pool (each call its own statement,
 * so its own transaction), a transaction, or a savepoint. Each write is one statement: a change
 * and its event go together through a data-modifying CTE, one round trip.
 */
export class PostgresWrites implements TaskWrites {
  constructor(
    readonly db: Executor,
    readonly context: WriteContext,
    /** How `attempt` runs: a savepoint inside a transaction, a transaction of its own outside. */
    readonly unit: <T>(fn: (tx: TaskWrites) => Promise<T>) => Promise<T>,
    /** Inside a transaction: its connection, watched for its loss. Undefined on the pool. */
    readonly watch?: ConnectionWatch,
  ) {
    this.#schedules = new PostgresSchedules((text, params) => this.#run(text, params), context.codec.sealed);
    this.#dependencies = new PostgresDependencies((text, params) => this.#run(text, params));
  }

  readonly #dependencies: PostgresDependencies;
  addAwaited: TaskWrites["addAwaited"] = (taskId, kind, ids) =>
    this.#dependencies.addAwaited(taskId, kind, ids);
  awaitedStates: TaskWrites["awaitedStates"] = (taskId, kind) =>
    this.#dependencies.awaitedStates(taskId, kind);
  awaitingOn: TaskWrites["awaitingOn"] = (ids) => this.#dependencies.awaitingOn(ids);

  /** Runs a statement, unless the transaction's connection is known to be gone. */
  async #run<R = Row>(text: string, params: readonly SqlValue[]): Promise<R[]> {
    const watch = this.watch;
    if (!watch) return run<R>(this.db, text, params);
    if (watch.lost !== undefined) throw watch.lost;
    if (watch.stalled !== undefined) throw watch.stalled;
    try {
      return await run<R>(this.db, text, params);
    } catch (error) {
      if (postgresFaultOf(error)?.cause === "unreachable") watch.lost = error;
      throw error;
    }
  }

  async createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    const now = Date.now();
    // Encrypted params keep no searchable copy (see ParamFiltersUnavailableError).
    const columns = newTaskColumns(task);
    const fields =
      this.context.codec.cipher === undefined && task.searchableParams !== false
        ? searchableParamFields(task.params)
        : [];
    const statement = this.#createStatement(columns, fields.length > 0);
    const values: SqlValue[] = statement.fields.map((field) =>
      this.context.codec.toSql(field, columns[field], task.id),
    );
    values.push(now, now, ...eventParams(now, event));
    if (fields.length > 0) values.push(JSON.stringify(fields));
    const [row] = await this.#run(statement.sql, values);
    if (!row) throw new Error("insert returned no row");
    return this.context.codec.fromRow(row);
  }

  async transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
    fence?: RunFence,
  ): Promise<TaskRecord | undefined> {
    const now = Date.now();
    const { shape, values } = this.context.patches.build(patch, now, id);
    const key = fence ? `t${from.length}f` : `t${from.length}`;
    let text = shape.statements.get(key);
    if (!text) {
      text = transitionSql(shape.sql, shape.params, from.length, fence !== undefined);
      shape.statements.set(key, text);
    }
    values.push(id, ...from);
    if (fence) values.push(fence.node, fence.epoch);
    values.push(...eventParams(now, event));
    const [row] = await this.#run(text, values);
    return row ? this.context.codec.fromRow(row) : undefined;
  }

  async updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    const now = Date.now();
    const { shape, values } = this.context.patches.build(patch, now, id);
    const key = event ? "ue" : "u";
    let text = shape.statements.get(key);
    if (!text) {
      text = updateSql(shape.sql, shape.params, event !== undefined);
      shape.statements.set(key, text);
    }
    values.push(id);
    if (event) values.push(...eventParams(now, event));
    const [row] = await this.#run(text, values);
    return row ? this.context.codec.fromRow(row) : undefined;
  }

  async writeTelemetry(batch: TelemetryBatch): Promise<void> {
    if (batch.progress.size === 0 && batch.checkpoints.size === 0 && batch.logs.length === 0) return;
    const changes = new Map<string, Record<string, unknown>>();
    const fences = batch.fences;
    for (const [id, progress] of batch.progress) {
      changes.set(id, { id, has_progress: true, progress, has_checkpoint: false, checkpoint: null });
    }
    for (const [id, checkpoint] of batch.checkpoints) {
      const stored = this.context.codec.toSql("checkpoint", checkpoint, id);
      const change = changes.get(id);
      if (change) Object.assign(change, { has_checkpoint: true, checkpoint: stored });
      else
        changes.set(id, {
          id,
          has_progress: false,
          progress: null,
          has_checkpoint: true,
          checkpoint: stored,
        });
    }
    if (fences) {
      for (const change of changes.values()) {
        const fence = fences.get(change.id as string);
        if (fence) Object.assign(change, { node: fence.node, epoch: fence.epoch });
      }
    }
    const lines = batch.logs.map((log) => ({
      task_id: log.taskId,
      at: log.at,
      level: log.level,
      message: storableText(log.message),
    }));
    const params = [JSON.stringify([...changes.values()]), JSON.stringify(lines)];
    try {
      await this.#run(SQL.writeTelemetry, params);
    } catch (error) {
      // A task deleted while the lines were written: once more, and its lines are dropped.
      if (this.watch || !isTaskGone(error)) throw error;
      await this.#run(SQL.writeTelemetry, params);
    }
  }

  async deleteTask(id: string): Promise<boolean> {
    const rows = await this.#run(SQL.deleteTask, [id]);
    return rows.length > 0;
  }

  async deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]> {
    // end_time < cutoff for an integer column: the same as below its ceiling.
    const params = [uuidV7Floor(cutoff), Math.ceil(cutoff), Math.max(0, Math.trunc(limit))];
    return [...(await this.#run<DeletedTask>(SQL.deleteEndedBefore, params))];
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const [row] = await this.#run<Row>(SQL.getTask, [id]);
    return row ? this.context.codec.fromRow(row) : undefined;
  }

  async findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    const [row] = await this.#run<Row>(SQL.findByIdempotencyKey, [key]);
    return row ? this.context.codec.fromRow(row) : undefined;
  }

  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.unit(fn);
  }

  async claimReady(request: ClaimRequest): Promise<TaskRecord[]> {
    if (request.limit <= 0 || request.names.length === 0) return [];
    const rows = await this.#run(CLUSTER_SQL.claimReady, claimParams(request));
    return rows.map((row) => this.context.codec.fromRow(row));
  }

  /** Takes the name's claim lock for this transaction; false when another claim of it holds it. */
  async #lockName(name: string): Promise<boolean> {
    const [row] = await this.#run(CLUSTER_SQL.lockName, [name]);
    return (row?.locked as unknown) === true;
  }

  async claimLimited(
    request: ClaimRequest & { name: string; classLimit: number },
  ): Promise<TaskRecord[] | null> {
    if (request.limit <= 0) return [];
    if (!(await this.#lockName(request.name))) return null;
    const params = claimParams({ ...request, names: [request.name] });
    params.push(request.classLimit);
    const rows = await this.#run(CLUSTER_SQL.claimLimited, params);
    return rows.map((row) => this.context.codec.fromRow(row));
  }

  async claimFlow(request: FlowClaimRequest): Promise<FlowClaim | null> {
    if (request.limit <= 0) return { tasks: [], fullKeys: [], ratedKeys: [], now: request.now };
    // Its own statement: the claim's snapshot must be taken once the lock is held.
    if (!(await this.#lockName(request.name))) return null;
    const params = claimParams({ ...request, names: [request.name] });
    params.push(
      request.classLimit,
      request.keyLimit,
      request.rate?.count ?? null,
      request.rate?.perMs ?? null,
      request.candidates,
    );
    const rows = await this.#run(CLUSTER_SQL.claimFlow, params);
    const first = rows[0];
    const tasks = rows.filter((row) => row.id !== null).map((row) => this.context.codec.fromRow(row));
    return {
      tasks,
      fullKeys: first?.kiln_full_keys ? (JSON.parse(String(first.kiln_full_keys)) as string[]) : [],
      ratedKeys: first?.kiln_rated_keys
        ? (JSON.parse(String(first.kiln_rated_keys)) as Array<[string, number]>)
        : [],
      now: Number(first?.kiln_now ?? request.now),
    };
  }

  async unkeyedTasks(name: string, limit: number): Promise<TaskRecord[]> {
    const rows = await this.#run(CLUSTER_SQL.unkeyedTasks, [name, limit]);
    return rows.map((row) => this.context.codec.fromRow(row));
  }

  async setTaskKeys(keys: ReadonlyArray<{ id: string } & TaskKeyColumns>): Promise<void> {
    if (keys.length === 0) return;
    await this.#run(CLUSTER_SQL.setTaskKeys, [JSON.stringify(keys)]);
  }

  async lockExpiredLeases(limit: number): Promise<TaskRecord[]> {
    const rows = await this.#run(CLUSTER_SQL.lockExpiredLeases, [limit]);
    return rows.map((row) => this.context.codec.fromRow(row));
  }

  // Schedules: their statements live in schedules.ts, sent through this executor.
  readonly #schedules: PostgresSchedules;
  createSchedule: TaskWrites["createSchedule"] = (schedule) => this.#schedules.createSchedule(schedule);
  updateSchedule: TaskWrites["updateSchedule"] = (id, patch) => this.#schedules.updateSchedule(id, patch);
  deleteSchedule: TaskWrites["deleteSchedule"] = (id) => this.#schedules.deleteSchedule(id);
  getSchedule: TaskWrites["getSchedule"] = (id, options) => this.#schedules.getSchedule(id, options);
  recordScheduleFire: TaskWrites["recordScheduleFire"] = (fire) => this.#schedules.recordScheduleFire(fire);

  #createStatement(
    task: NewTaskColumns,
    paramFields: boolean,
  ): { sql: string; fields: (keyof NewTaskColumns)[] } {
    let key = paramFields ? "+" : "";
    for (const field in task) key += `${field},`;
    let statement = this.context.creates.get(key);
    if (!statement) {
      const fields = Object.keys(task) as (keyof NewTaskColumns)[];
      const columns = [...fields.map((field) => TASK_COLUMNS[field]), "created_at", "updated_at"];
      statement = { sql: createSql(columns, paramFields), fields };
      this.context.creates.set(key, statement);
    }
    return statement;
  }
}
