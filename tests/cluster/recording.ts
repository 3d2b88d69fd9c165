// The tables the fixture task (tasks/steps.ts) records into, beside kiln's own in the test
// database, and the reads the tests make of them.
import type postgres from "postgres";

/**
 * Creates the record tables, empty (a test file's second cluster starts afresh); a completion's
 * task id is unique, so a second completion raises.
 */
export async function createRecordTables(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    CREATE TABLE IF NOT EXISTS cluster_runs (
      task_id text NOT NULL, attempt integer NOT NULL, node_pid integer NOT NULL,
      resumed_from integer NOT NULL, run_token text NOT NULL, in_worker boolean NOT NULL,
      at_ms bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS cluster_steps (
      task_id text NOT NULL, step integer NOT NULL, node_pid integer NOT NULL,
      run_token text NOT NULL, at_ms bigint NOT NULL);
    CREATE INDEX IF NOT EXISTS cluster_steps_task ON cluster_steps (task_id, at_ms);
    CREATE TABLE IF NOT EXISTS cluster_completions (
      task_id text PRIMARY KEY, node_pid integer NOT NULL, run_token text NOT NULL,
      steps integer NOT NULL, at_ms bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS cluster_duplicate_completions (
      task_id text NOT NULL, node_pid integer NOT NULL, run_token text NOT NULL, at_ms bigint NOT NULL);
    TRUNCATE cluster_runs, cluster_steps, cluster_completions, cluster_duplicate_completions;
  `);
}

export interface RunRow {
  taskId: string;
  attempt: number;
  nodePid: number;
  resumedFrom: number;
  runToken: string;
  /** Whether the run was in a worker thread (it is, unless the class asks for a process). */
  inWorker: boolean;
  atMs: number;
}

export interface StepRow {
  taskId: string;
  step: number;
  nodePid: number;
  runToken: string;
  atMs: number;
}

export interface CompletionRow {
  taskId: string;
  nodePid: number;
  runToken: string;
  atMs: number;
}

/** Reads of the record tables. */
export class Records {
  constructor(readonly sql: postgres.Sql) {}

  async runs(taskId: string): Promise<RunRow[]> {
    const rows = await this.sql<
      {
        task_id: string;
        attempt: number;
        node_pid: number;
        resumed_from: number;
        run_token: string;
        in_worker: boolean;
        at_ms: string;
      }[]
    >`SELECT * FROM cluster_runs WHERE task_id = ${taskId} ORDER BY at_ms`;
    return rows.map((row) => ({
      taskId: row.task_id,
      attempt: row.attempt,
      nodePid: row.node_pid,
      resumedFrom: row.resumed_from,
      runToken: row.run_token,
      inWorker: row.in_worker,
      atMs: Number(row.at_ms),
    }));
  }

  async steps(taskId: string): Promise<StepRow[]> {
    const rows = await this.sql<
      { task_id: string; step: number; node_pid: number; run_token: string; at_ms: string }[]
    >`SELECT * FROM cluster_steps WHERE task_id = ${taskId} ORDER BY at_ms, step`;
    return rows.map((row) => ({
      taskId: row.task_id,
      step: row.step,
      nodePid: row.node_pid,
      runToken: row.run_token,
      atMs: Number(row.at_ms),
    }));
  }

  /** The highest step a task recorded, or 0. */
  async lastStep(taskId: string): Promise<number> {
    const [row] = await this.sql<{ step: number | null }[]>`
      SELECT max(step) AS step FROM cluster_steps WHERE task_id = ${taskId}`;
    return row?.step ?? 0;
  }

  /**
   * The step of the checkpoint kiln has stored for a task (0 for none), read under the store from
   * its `tasks` table: the state a run taking the task over starts from.
   */
  async storedStep(taskId: string): Promise<number> {
    const [row] = await this.sql<{ checkpoint: { step?: unknown } | null }[]>`
      SELECT checkpoint FROM tasks WHERE id = ${taskId}`;
    if (!row) throw new Error(`no task ${taskId} in the tasks table`);
    const step = row.checkpoint?.step;
    return typeof step === "number" ? step : 0;
  }

  /** Completion rows per task id (the table allows one; more would have raised). */
  async completions(): Promise<Map<string, CompletionRow>> {
    const rows = await this.sql<{ task_id: string; node_pid: number; run_token: string; at_ms: string }[]>`
      SELECT task_id, node_pid, run_token, at_ms FROM cluster_completions`;
    return new Map(
      rows.map((row) => [
        row.task_id,
        { taskId: row.task_id, nodePid: row.node_pid, runToken: row.run_token, atMs: Number(row.at_ms) },
      ]),
    );
  }

  /** Second completions the fixture caught (and raised for): a test expects none. */
  async duplicateCompletions(): Promise<{ taskId: string; nodePid: number }[]> {
    const rows = await this.sql<{ task_id: string; node_pid: number }[]>`
      SELECT task_id, node_pid FROM cluster_duplicate_completions ORDER BY at_ms`;
    return rows.map((row) => ({ taskId: row.task_id, nodePid: row.node_pid }));
  }

  /** Completions per node process id. */
  async completionsByPid(): Promise<Map<number, number>> {
    const rows = await this.sql<{ node_pid: number; count: string }[]>`
      SELECT node_pid, count(*) AS count FROM cluster_completions GROUP BY node_pid`;
    return new Map(rows.map((row) => [row.node_pid, Number(row.count)]));
  }
}
