import type { TSchema } from "@sinclair/typebox";
import type { TaskContext } from "./context.ts";
import { TaskReleased, TaskStopped, TaskSuspended } from "./errors.ts";
import type { FileAccess } from "./file-access.ts";
import type { ChildOutcome, ConcurrencyDeclaration, RateLimitDeclaration } from "./flow.ts";
import type { RetryPolicy, TaskIsolation } from "./options.ts";
import { bindRuntime, TASK_CLASS_BRAND, type TaskOutcome, type TaskRuntime } from "./runtime.ts";
import type { ScheduleDeclaration } from "./schedule.ts";
import type { LogLevel } from "./status.ts";

/**
 * The base of every kiln task. Subclass it, give it a `static taskName` and implement
 * `run()`; kiln runs `pre → run → post` on a worker thread, off the HTTP thread.
 *
 * - `Params` is what `run()` receives (validated against `static params` before the task
 *   is created), `Result` what it returns, `State` what it saves at checkpoints.
 * - Call `await this.checkpoint(state)` wherever it is safe to pause or stop. That is the
 *   only place pause and stop take effect; `state` is where the task resumes after a
 *   pause, a crash or a restart of kiln (`this.state`).
 */
export abstract class BaseTask<Params = unknown, Result = unknown, State = unknown> {
  static readonly [TASK_CLASS_BRAND] = true;

  /** The registered name: what clients send as `name` and what is stored as `task_name`. */
  static taskName: string;
  /** TypeBox schema of the parameters; defaults to "anything JSON". */
  static params?: TSchema;
  /** TypeBox schema of the result; checked when the task finishes. */
  static result?: TSchema;
  /** One-line description shown in `GET /task-types` and the dashboard. */
  static description?: string;
  /** Retries on failure; default: one attempt. */
  static retry?: RetryPolicy;
  /** A run longer than this (paused time excluded) is stopped and fails as timed out. */
  static timeoutMs?: number;
  /**
   * At most this many tasks of this name run at once; or `{ limit, key }`: at most `limit` with
   * the same key (see `ConcurrencyDeclaration`).
   */
  static concurrency?: ConcurrencyDeclaration;
  /** At most `count` starts in any window of `perMs` ms, per key when `key` is given. */
  static rateLimit?: RateLimitDeclaration;
  /**
   * Whether a run interrupted by a crash may simply run again from its last checkpoint
   * (default true). False: an interrupted run follows the retry policy, or fails as
   * "interrupted" when none is left.
   */
  static resumable?: boolean;
  /** Checkpoint states reach the database at most this often while running (default 200 ms; 0 = every one). */
  static checkpointIntervalMs?: number;
  /** How long a stop may take before the worker is terminated (default: the manager's grace period). */
  static stopGraceMs?: number;
  /**
   * Where each run executes (default `"worker"`: a pooled worker thread, shared with later
   * tasks). `"fresh"`: a worker thread of its own, ended after the run. `"process"`: a child
   * process.
   */
  static isolation?: TaskIsolation;
  /**
   * Memory cap of one run in MB (default: the manager's `taskMemoryLimitMb`, else none). A run
   * over it is ended and fails with "memory limit exceeded", without retry. On a worker thread
   * the JavaScript heap is measured at checkpoints and between event-loop turns; with
   * `isolation = "process"` the child's resident size is, whatever the task is doing.
   */
  static memoryLimitMb?: number;
  /**
   * Recurring runs of this task: cron expressions or intervals, each with its own params (see
   * `ScheduleDeclaration`). Write `satisfies ScheduleDeclaration[]` (or `as const`) after the list
   * so that policies such as `misfire: "all"` keep their literal types.
   */
  static schedules?: readonly ScheduleDeclaration[];
  /**
   * Whether a stop of this task stops the children it spawned that have not ended (default
   * true). False: they run on.
   */
  static stopChildrenWithParent?: boolean;
  /**
   * Whether `GET /tasks?param.<path>=` can find this task by its params (default true): false keeps
   * no searchable copy of them, and saves each create the writing of it.
   */
  static searchableParams?: boolean;

  #runtime: TaskRuntime | undefined;
  #state: State | undefined;

  [bindRuntime](runtime: TaskRuntime, state: State | undefined): void {
    this.#runtime = runtime;
    this.#state = state;
  }

  private get runtime(): TaskRuntime {
    if (!this.#runtime) throw new Error("this task is not running: kiln binds it when a worker runs it");
    return this.#runtime;
  }

  /** The id of this task's row. */
  get taskId(): string {
    return this.runtime.taskId;
  }

  /** 1 for the first run; grows with each retry and restart. */
  get attempt(): number {
    return this.runtime.attempt;
  }

  /** The state saved at the last persisted checkpoint, or undefined on a fresh start. */
  get state(): State | undefined {
    return this.#state;
  }

  /**
   * The request context the task was created with (read only): `traceparent` and `requestId`
   * of the HTTP request, or derived from the parent's for a spawned task. Pass the traceparent on
   * to the services the task calls to keep them in one trace.
   */
  get context(): TaskContext {
    return this.runtime.context;
  }

  /** The id of the task that spawned this one with `this.spawn()`; undefined otherwise. */
  get parentId(): string | undefined {
    return this.runtime.parentId;
  }

  /** Aborted when the task is asked to stop: pass it to `fetch` and other cancellable calls. */
  get signal(): AbortSignal {
    return this.runtime.signal;
  }

  /**
   * The directories file tasks may use and the paths they must never touch, as the operator
   * configured them (`--files-root`); no roots means file access is not allowed.
   */
  get fileAccess(): FileAccess {
    return this.runtime.fileAccess;
  }

  /** Prepares the run (open files, validate inputs). Runs before `run()`; a throw fails the task. */
  async pre(_params: Params): Promise<void> {}

  /** The work itself. Its return value is the task's result. */
  abstract run(params: Params): Promise<Result>;

  /** Always runs after `run()` (or after `pre()` threw), with the outcome, to release resources. */
  async post(_outcome: TaskOutcome<Result>): Promise<void> {}

  /**
   * A safe point to pause or stop. Costs nanoseconds when nothing is asked. On pause the
   * task waits here (its `state` saved) until resumed; on stop it throws `TaskStopped`.
   */
  checkpoint(state?: State): Promise<void> {
    return this.runtime.checkpoint(state);
  }

  /** Reports progress; cheap and coalesced, call it as often as you like. */
  progress(done: number, total?: number, message?: string): void {
    this.runtime.progress(done, total, message);
  }

  /** Appends a line to this task's log. */
  log(level: LogLevel, message: string): void {
    this.runtime.log(level, message);
  }

  /** Asks kiln to pause this task; it takes effect at the next checkpoint. */
  pause(reason?: string): void {
    this.runtime.request("pause", reason);
  }

  /** Asks kiln to stop this task; the next checkpoint throws `TaskStopped`. */
  stop(reason?: string): void {
    this.runtime.request("stop", reason);
  }

  /** Asks kiln to stop this task and queue it again from the top, as a new attempt. */
  restart(reason?: string): void {
    this.runtime.request("restart", reason);
  }

  /**
   * Creates one child task of `name` per item of `paramsList`, each validated as `POST /tasks`
   * validates a body's params, and resolves with their ids in the same order once every child is
   * committed. All or none: a refusal (unknown name, params that fail the schema, kiln shutting
   * down, the database unavailable) rejects with `SpawnError` and creates nothing. Each child
   * records this task as its `parentId` and continues its trace (same trace id, new span id).
   */
  spawn(name: string, paramsList: readonly unknown[]): Promise<string[]> {
    return this.runtime.spawn(name, paramsList);
  }

  /**
   * The outcomes of the children `ids` (tasks this task spawned), in the order of `ids`, once all
   * of them have ended: FINISHED with its result, FAILED with its error, STOPPED with its reason,
   * or DELETED. While some have not ended the run does not wait on its worker: `waitFor` throws
   * `TaskSuspended`, the run ends (`post()` runs), and the task waits PENDING, its state saved as
   * at a checkpoint, until the last child ends; then `run()` starts again from that state, and
   * the same `waitFor` call returns at once. So the code before `waitFor` runs again: see the
   * README ("Waiting for children") for how `spawn` calls replay. Ids this task may not wait for
   * reject with `WaitForError`.
   */
  waitFor<R = unknown>(ids: readonly string[]): Promise<ChildOutcome<R>[]> {
    return this.runtime.waitFor(ids) as Promise<ChildOutcome<R>[]>;
  }

  /**
   * Runs the lifecycle `pre → run → post` and returns the outcome. Called by the worker
   * runtime; `post` runs whatever happened, and a throw from `post` fails a run that
   * had otherwise finished.
   */
  async start(params: Params): Promise<TaskOutcome<Result>> {
    let outcome: TaskOutcome<Result>;
    try {
      await this.pre(params);
      outcome = { status: "finished", result: await this.run(params) };
    } catch (thrown) {
      if (thrown instanceof TaskReleased) outcome = { status: "released" };
      else if (thrown instanceof TaskSuspended) outcome = { status: "suspended" };
      else if (thrown instanceof TaskStopped)
        outcome = { status: "stopped", reason: thrown.reason, stop: thrown };
      else outcome = { status: "failed", error: thrown };
    }
    try {
      await this.post(outcome);
    } catch (thrown) {
      if (outcome.status === "finished") return { status: "failed", error: thrown };
      // The run had already failed or stopped: keep that outcome, it is the more useful one.
    }
    return outcome;
  }
}

/** A concrete subclass of `BaseTask`, as `register` and the worker see it. */
export type TaskClass = (abstract new () => BaseTask<never, unknown, unknown>) & {
  taskName: string;
  params?: TSchema;
  result?: TSchema;
  description?: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
  concurrency?: ConcurrencyDeclaration;
  rateLimit?: RateLimitDeclaration;
  resumable?: boolean;
  checkpointIntervalMs?: number;
  stopGraceMs?: number;
  isolation?: TaskIsolation;
  memoryLimitMb?: number;
  schedules?: readonly ScheduleDeclaration[];
  stopChildrenWithParent?: boolean;
  searchableParams?: boolean;
};

/** True for a class that extends `BaseTask`, including one from another copy of the SDK. */
export function isTaskClass(value: unknown): value is TaskClass {
  if (typeof value !== "function") return false;
  if (value === BaseTask) return false;
  return (
    value.prototype instanceof BaseTask ||
    (value as unknown as Record<symbol, unknown>)[TASK_CLASS_BRAND] === true
  );
}
