import type { TaskRecord } from "../../store/index.ts";
import type { ValueLimits } from "../../task/index.ts";
import { Control } from "../../worker/protocol.ts";
import type { TurnCommits } from "../commit/turn-commits.ts";
import type { Unit } from "../commit/unit.ts";
import type { EngineWrite } from "../commit/write-retry.ts";
import { holdsSlot, requestedAction } from "../lifecycle/run-phase.ts";
import type { RunEnd, RunSettlement } from "../lifecycle/run-settlement.ts";
import type { Requester, Transitions } from "../lifecycle/transitions.ts";
import { UnansweredStarts } from "../lifecycle/unanswered-starts.ts";
import type { Logger } from "../logger.ts";
import type { ControlOptions } from "../manager-options.ts";
import { RunningCounts } from "../queue/running-counts.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { RegisteredTask, TaskRegistry } from "../registry.ts";
import type { TelemetryBuffer } from "../upkeep/telemetry.ts";
import { ParkedRuns } from "./parked-runs.ts";
import type { WorkerPool } from "./pool.ts";
import { RunEnds } from "./run-ends.ts";
import type { RunFences } from "./run-fences.ts";
import type { RunHost } from "./run-host.ts";
import { runMessage } from "./run-message.ts";
import { RunTable } from "./run-table.ts";
import { RunTimers } from "./run-timers.ts";
import { advance, clearRunTimers, type LiveRun, newRun } from "./runs.ts";

export interface RunExecutorOptions {
  concurrency: number;
  stopGraceMs: number;
  maxParkedWorkers: number;
  memoryLimitMb: number | undefined;
  /** What a run may store; workers check against it, and so does onWorkerMessage. */
  limits: ValueLimits;
  logger: Logger;
}

export interface RunExecutorHooks {
  /** False once the manager is stopping. */
  accepting(): boolean;
  /** A control request a task made of itself, handled like one from the API. */
  control(action: "pause" | "stop" | "restart", id: string, options: ControlOptions): Promise<unknown>;
  /** A task's `this.spawn`: resolves with the children's ids once they are committed. */
  spawn(run: LiveRun, name: string, paramsJson: string): Promise<string[]>;
}

/** What the executor needs of the rest of the engine. */
export interface RunExecutorParts {
  registry: TaskRegistry;
  pool: WorkerPool;
  transitions: Transitions;
  telemetry: TelemetryBuffer;
  commits: TurnCommits;
  dispatcher: TaskDispatch;
  settlement: RunSettlement;
  /** The claims of this node's runs, on a store nodes share. */
  fences?: RunFences;
}

/**
 * The runs on workers: starting one on a worker (or resuming it on the worker it paused on),
 * what each worker message means for its run, the timeout and the stop grace period, the
 * paused runs that keep their worker, and the end of a run, which `RunSettlement` turns into
 * the task's status. It counts what runs against the concurrency limits. Its parts: the runs
 * by task and by worker (`RunTable`), the timeout and grace timers (`RunTimers`), the parked runs
 * (`ParkedRuns`), and a run's end or abandon (`RunEnds`).
 */
export class RunExecutor {
  readonly #table: RunTable;
  readonly #unanswered = new UnansweredStarts();
  readonly #timers: RunTimers;
  readonly #parked: ParkedRuns;
  readonly #ends: RunEnds;
  private readonly registry: TaskRegistry;
  private readonly pool: WorkerPool;
  private readonly transitions: Transitions;
  private readonly dispatcher: TaskDispatch;
  private readonly settlement: RunSettlement;
  private readonly fences: RunFences | undefined;

  constructor(
    parts: RunExecutorParts,
    private readonly options: RunExecutorOptions,
    hooks: RunExecutorHooks,
  ) {
    this.registry = parts.registry;
    this.pool = parts.pool;
    this.transitions = parts.transitions;
    this.dispatcher = parts.dispatcher;
    this.settlement = parts.settlement;
    this.fences = parts.fences;
    const counts = new RunningCounts(options.concurrency, (name) => this.registry.get(name)?.concurrency);
    this.#table = new RunTable(counts, parts.dispatcher);
    this.#timers = new RunTimers(parts.pool, options, (run, end) => this.endRun(run, end));
    this.#parked = new ParkedRuns(this.#table, this.#timers, parts, options, hooks);
    this.#ends = new RunEnds(this.#table, this.#parked, parts);
  }

  /** Runs that hold a concurrency slot now. */
  get running(): number {
    return this.#table.counts.total;
  }

  /** Paused runs that keep their worker. */
  get parked(): number {
    return this.#parked.count;
  }

  /** Whether another run of any name fits now. */
  hasFreeSlot(): boolean {
    return this.#table.counts.hasFreeSlot();
  }

  /** The run on a worker, if it has one. */
  runOn(host: RunHost): LiveRun | undefined {
    return this.#table.byHost.get(host);
  }

  /** The task's current run, if it has one (running or parked). */
  live(id: string): LiveRun | undefined {
    return this.#table.byTask.get(id);
  }

  /** Shutdown, first step: every running run is asked to pause at its next checkpoint. */
  pauseAllForShutdown(): void {
    for (const run of this.#table.byTask.values()) {
      if (run.phase.kind !== "running") continue;
      advance(run, { type: "shutdown" });
      run.host.setControl(Control.PAUSE);
    }
  }

  /** Shutdown, after the grace period: the runs that did not pause are ended by force. */
  terminateUnpaused(): void {
    for (const run of [...this.#table.byTask.values()]) {
      if (!holdsSlot(run.phase)) continue;
      this.pool.terminate(run.host);
      this.endRun(run, { type: "stopped", taskId: run.taskId, reason: "terminated at shutdown" }, "shutdown");
    }
  }

  /** Marks the run as asked for `action` and tells its worker (pause at a checkpoint, or stop). */
  request(run: LiveRun, action: "pause" | "stop" | "restart", reason: string | null, by: Requester): void {
    advance(run, { type: "request", action, reason, by });
    // A run timing out is already told to stop; a pause asked of it only goes in its history.
    if (run.phase.kind === "pause-requested") run.host.setControl(Control.PAUSE);
    else if (action !== "pause") this.#timers.askToStop(run, reason ?? `${action} requested`);
  }

  /**
   * Sets the pause word of a running run before its pause request is committed; false (nothing
   * done) unless the run is plainly running. `request` or `takeBackEarlyPause` follows.
   */
  signalPauseEarly(run: LiveRun): boolean {
    if (run.phase.kind !== "running") return false;
    run.host.setControl(Control.PAUSE);
    return true;
  }

  /**
   * The pause request signalled early was not written: the word is cleared and a worker that
   * already paused at a checkpoint goes on. Its acknowledgement, decided after this in the task's
   * lane, finds the run running and writes nothing.
   */
  takeBackEarlyPause(run: LiveRun): void {
    if (run.phase.kind !== "running" || this.#table.byHost.get(run.host) !== run) return;
    this.#unpause(run);
  }

  /** A pause asked for and withdrawn before the worker acknowledged it. */
  withdrawPause(run: LiveRun): void {
    const before = advance(run, { type: "withdraw-pause" });
    if (before.kind !== "pause-requested") return; // timing out: the worker is stopping anyway
    this.#unpause(run);
  }

  /** Clears the run's pause word and wakes its worker if it already paused at a checkpoint. */
  #unpause(run: LiveRun): void {
    run.host.setControl(Control.NONE);
    run.host.post({ type: "resume" });
  }

  /** A parked run whose task was stopped or restarted: let its worker unwind, then reuse it. */
  detachParked(run: LiveRun, reason: string): void {
    advance(run, { type: "detach" });
    this.#table.byTask.delete(run.taskId);
    this.#timers.askToStop(run, reason);
  }

  /** Whether a run of `name` may start now: below the concurrency and the name's own limit. */
  canRun(name: string): boolean {
    return this.#table.counts.canRun(name);
  }

  /**
   * Starts the task's run inside `u`: the concurrency slot and the worker are taken at once,
   * before the RUNNING row is written, so the dispatcher's next `hasFreeSlot()` counts them; the
   * worker is told to run once the row is committed, and everything is given back if it is not.
   */
  async start(u: Unit, id: string, name: string): Promise<void> {
    const registered = this.registry.get(name);
    if (!registered) return;
    const parked = this.#table.byTask.get(id);
    if (parked?.phase.kind === "parked") {
      await this.#parked.resume(u, parked, name);
      return;
    }
    const { run, forget } = this.#take(id, registered);
    let task: Awaited<ReturnType<Transitions["running"]>>;
    try {
      task = await this.transitions.running(u, id, null, "start");
    } catch (error) {
      forget();
      throw error;
    }
    if (!task) task = await this.#unanswered.startAgain(this.transitions, u, id);
    if (!task) {
      forget();
      return;
    }
    const priority = task.priority;
    u.onRollback(() => {
      forget();
      this.#unanswered.add(id);
      this.dispatcher.requeueAfterFailedStart({ id, name, priority });
      this.dispatcher.request();
    });
    await this.#launch(u, run, task, forget);
  }

  /**
   * Starts the run of a task this node has just claimed in `u` (the claim made it RUNNING, with
   * its start event), as `start` does after its own transition. Its writes are fenced by the claim.
   */
  async startClaimed(u: Unit, task: TaskRecord): Promise<void> {
    const registered = this.registry.get(task.taskName);
    if (!registered) return;
    const { run, forget } = this.#take(task.id, registered);
    this.fences?.hold(task.id, task.leaseEpoch);
    u.afterCommit(() => this.fences?.committed(task.id));
    this.transitions.claimed(u, task);
    u.onRollback(() => {
      forget();
      this.fences?.release(task.id);
      this.dispatcher.request();
    });
    await this.#launch(u, run, task, forget);
  }

  /** The slot, the worker and the run of a start, with what gives them back. */
  #take(id: string, registered: RegisteredTask): { run: LiveRun; forget: () => void } {
    const name = registered.name;
    const host = this.pool.acquire(registered.isolation);
    const run = newRun(id, registered, host);
    this.#table.byTask.set(id, run);
    this.#table.byHost.set(host, run);
    this.#table.counts.add(name, 1);
    let held = true;
    const forget = () => {
      if (!held) return;
      held = false;
      clearRunTimers(run);
      if (this.#table.byTask.get(id) === run) this.#table.byTask.delete(id);
      if (this.#table.byHost.get(host) === run) {
        this.#table.byHost.delete(host);
        this.pool.release(host);
      }
      this.#table.freeSlot(name, id);
    };
    return { run, forget };
  }

  /** Once the RUNNING row is committed, the worker is told to run the task. */
  async #launch(u: Unit, run: LiveRun, task: TaskRecord, forget: () => void): Promise<void> {
    const id = task.id;
    const host = run.host;
    const unreadable = this.settlement.failIfUnreadable(u, task);
    if (unreadable !== false && (await unreadable)) {
      forget();
      return;
    }
    run.reportedTotal = task.progress?.total != null;
    run.context = { traceparent: task.traceparent, requestId: task.requestId };
    run.attempt = task.attempt;
    const started = task;
    u.afterCommit(() => {
      this.#unanswered.settled(id);
      // Stopped or restarted before its start was committed: its end is on its way.
      if (this.#table.byHost.get(host) !== run) return;
      const asked = requestedAction(run.phase);
      if (!asked) host.setControl(Control.NONE);
      host.post(runMessage(run.task, started, this.options));
      // A stop asked for before the run message: the worker had no run to hand it to.
      if (run.phase.kind === "stop-requested" || run.phase.kind === "restart-requested")
        host.post({ type: "stop", reason: run.phase.reason ?? `${asked} requested` });
      this.#timers.armTimeout(run);
    });
  }

  /** This node lost the task's claim: the run is dropped here, and nothing is written (`RunEnds`). */
  abandon(id: string): boolean {
    return this.#ends.abandon(id);
  }

  /** The ids of the runs on this node that hold a slot. */
  runningIds(): string[] {
    return [...this.#table.byTask.values()].filter((run) => holdsSlot(run.phase)).map((run) => run.taskId);
  }

  /** The write a pause acknowledged at a checkpoint needs, or none when the run is past it. */
  pausedAt(run: LiveRun, state: unknown, at: number): EngineWrite | undefined {
    return this.#parked.pausedAt(run, state, at);
  }

  /** The worker reported (or was made to report) the end of a run, settled in its lane (`RunEnds`). */
  endRun(run: LiveRun, end: RunEnd, cause?: "shutdown"): void {
    this.#ends.end(run, end, cause);
  }

  untilIdle(timeoutMs: number): Promise<void> {
    return this.#table.counts.untilIdle(timeoutMs);
  }
}
