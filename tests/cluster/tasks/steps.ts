// The cluster tests' task: `steps` steps of `stepMs` each, a checkpoint `{ step }` after each,
// and a record of what it did in the test's own PostgreSQL tables (see ../recording.ts), written
// from the worker thread with postgres.js. The records are how a test sees which process ran
// which step and whether a task completed more than once, independently of kiln's own store.
import { isMainThread } from "node:worker_threads";
import { BaseTask, t } from "kiln";
import postgres from "postgres";
import { isStraySocketError } from "../../../src/cli/stray-socket-errors.ts";

const Params = t.Object({
  steps: t.Integer({ minimum: 1, maximum: 100_000 }),
  stepMs: t.Integer({ minimum: 0, default: 20 }),
  /** The database holding the record tables. */
  record: t.String(),
});
type Params = { steps: number; stepMs: number; record: string };
type State = { step: number };
type Result = { steps: number; resumedFrom: number; pid: number; runToken: string };

// postgres.js may report a lost connection on a socket it no longer listens to (the server
// restarting) and the worker would end of it; the writes below are retried, so that report is
// dropped. Any other uncaught error ends the worker as before.
if (!isMainThread) {
  process.on("uncaughtException", (error) => {
    if (isStraySocketError(error)) return;
    console.error(error);
    process.exit(1);
  });
}

// One connection per worker thread and database, reused by the tasks the pooled worker runs
// next; closed when idle so parked and idle workers do not hold the server's connections.
const clients = new Map<string, postgres.Sql>();
function client(url: string): postgres.Sql {
  let sql = clients.get(url);
  if (!sql) {
    sql = postgres(url, { max: 1, idle_timeout: 2, connect_timeout: 5, onnotice: () => {} });
    clients.set(url, sql);
  }
  return sql;
}

/** Errors of a connection, not of the statement: the write is retried (the server may be restarting). */
function connectionTrouble(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  return (
    code.startsWith("CONNECT") || // CONNECTION_CLOSED, CONNECTION_ENDED, CONNECTION_DESTROYED, CONNECT_TIMEOUT
    code.startsWith("ECONN") ||
    code === "EPIPE" ||
    code === "57P01" || // admin_shutdown
    code === "57P02" || // crash_shutdown
    code === "57P03" // cannot_connect_now (starting up or shutting down)
  );
}

async function write<T>(what: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await what();
    } catch (error) {
      if (!connectionTrouble(error) || Date.now() > deadline) throw error;
      await Bun.sleep(100);
    }
  }
}

export class Steps extends BaseTask<Params, Result, State> {
  static override taskName = "steps";
  static override description = "Steps with a checkpoint after each, recorded in PostgreSQL";
  static override params = Params;
  // Every checkpoint is saved: a resumed run starts right after the last step it recorded
  // (or at it, when the process died between recording a step and saving its checkpoint).
  static override checkpointIntervalMs = 0;

  override async run(params: Params): Promise<Result> {
    const sql = client(params.record);
    const resumedFrom = this.state?.step ?? 0;
    const runToken = crypto.randomUUID();
    const pid = process.pid;
    await write(
      () => sql`INSERT INTO cluster_runs (task_id, attempt, node_pid, resumed_from, run_token, in_worker, at_ms)
        VALUES (${this.taskId}, ${this.attempt}, ${pid}, ${resumedFrom}, ${runToken}, ${!isMainThread}, ${Date.now()})`,
    );
    for (let step = resumedFrom + 1; step <= params.steps; step++) {
      if (params.stepMs > 0) await Bun.sleep(params.stepMs);
      await write(
        () => sql`INSERT INTO cluster_steps (task_id, step, node_pid, run_token, at_ms)
          VALUES (${this.taskId}, ${step}, ${pid}, ${runToken}, ${Date.now()})`,
      );
      this.progress(step, params.steps, `step ${step}`);
      await this.checkpoint({ step });
    }
    await this.#complete(sql, params, runToken);
    return { steps: params.steps, resumedFrom, pid, runToken };
  }

  /**
   * One completion row per task: a second one raises, after saying so in
   * cluster_duplicate_completions, where the tests look for it. An insert retried after a lost
   * connection may find its own first try there, which is no duplicate.
   */
  async #complete(sql: postgres.Sql, params: Params, runToken: string): Promise<void> {
    try {
      await write(
        () => sql`INSERT INTO cluster_completions (task_id, node_pid, run_token, steps, at_ms)
          VALUES (${this.taskId}, ${process.pid}, ${runToken}, ${params.steps}, ${Date.now()})`,
      );
    } catch (error) {
      if ((error as { code?: unknown }).code !== "23505") throw error;
      const [first] = await write(
        () =>
          sql<
            { run_token: string }[]
          >`SELECT run_token FROM cluster_completions WHERE task_id = ${this.taskId}`,
      );
      if (first?.run_token === runToken) return;
      await write(
        () => sql`INSERT INTO cluster_duplicate_completions (task_id, node_pid, run_token, at_ms)
          VALUES (${this.taskId}, ${process.pid}, ${runToken}, ${Date.now()})`,
      );
      throw new Error(`task ${this.taskId} completed a second time (first by run ${first?.run_token})`);
    }
  }
}

/**
 * `steps` for the test that restarts PostgreSQL. There the fixture's own connection can end its
 * worker: Bun has reported a lost socket of it to the worker as an error the handler above did not
 * see, and the worker exited, so kiln failed the run as WorkerCrashed (retryable), as it should.
 * That loss is the fixture's, not kiln's: this class retries such a run from its last checkpoint,
 * and the test still requires every acknowledged task to complete exactly once.
 */
export class RetriedSteps extends Steps {
  static override taskName = "steps-retried";
  static override description = "Steps, retried from the last checkpoint when its worker dies";
  static override resumable = true;
  static override retry = { attempts: 5, backoffMs: 200, maxBackoffMs: 2_000 };
}
