import type { TaskRecord } from "../../store/index.ts";
import type { ValueLimits } from "../../task/index.ts";
import { Control } from "../../worker/protocol.ts";
import type { MessageCommits } from "../commit/message-commit.ts";
import type { Unit } from "../commit/unit.ts";
import type { EngineWrite } from "../commit/write-retry.ts";
import { contextOf } from "../creation/request-context.ts";
import { holdsSlot, RUNNING, requestedAction } from "../lifecycle/run-phase.ts";
import type { RunEnd, RunSettlement } from "../lifecycle/run-settlement.ts";
import { ENGINE, type Requester, type Transitions } from "../lifecycle/transitions.ts";
import { UnansweredStarts } from "../lifecycle/unanswered-starts.ts";
import type { Logger } from "../logger.ts";
import type { ControlOptions } from "../manager-options.ts";
import { RunningCounts } from "../queue/running-counts.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { RegisteredTask, TaskRegistry } from "../registry.ts";
import type { TelemetryBuffer } from "../upkeep/telemetry.ts";
import { resolveMemoryLimitBytes } from "./memory-limit.ts";
import type { WorkerPool } from "./pool.ts";
import type { RunFences } from "./run-fences.ts";
import type { RunHost } from "./run-host.ts";
import { advance, clearRunTimers, type LiveRun } from "./runs.ts";

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
  commits: MessageCommits;
  dispatcher: TaskDispatch;
  settlement: RunSettlement;
  /** The claims of this node's runs, on a store nodes share. */
  fences?: RunFences;
}

/**
 * The runs on workers: starting one on a worker (or resuming it on the worker it paused on),
 * what each worker message means for its run, the timeout and the stop grace period, the
 * paused runs that keep their worker, and the end of a run, which `RunSettlement` turns into
 * the task's status. It counts what runs against the concurrency limits.
 */
export class RunExecutor {
  readonly #runs = new Map<string, LiveRun>();
  readonly #unanswered = new UnansweredStarts();
  readonly #hostRuns = new Map<RunHost, LiveRun>();
  #parkedOrder: LiveRun[] = [];
  readonly #counts: RunningCounts;
  private readonly registry: TaskRegistry;
  private readonly pool: WorkerPool;
  private readonly transitions: Transitions;
  private readonly telemetry: TelemetryBuffer;
  private readonly commits: MessageCommits;
  private readonly dispatcher: TaskDispatch;
  private readonly settlement: RunSettlement;
  private readonly fences: RunFences | undefined;

  constructor(
    parts: RunExecutorParts,
    private readonly options: RunExecutorOptions,
    private readonly hooks: RunExecutorHooks,
  ) {
    this.registry = parts.registry;
    this.pool = parts.pool;
    this.transitions = parts.transitions;
    this.telemetry = parts.telemetry;
    this.commits = parts.commits;
    this.dispatcher = parts.dispatcher;
    this.settlement = parts.settlement;
    this.fences = parts.fences;
    this.#counts = new RunningCounts(options.concurrency, (name) => this.registry.get(name)?.concurrency);
  }

  /** Runs that hold a concurrency slot now. */
  get running(): number {
    return this.#counts.total;
  }

  /** Paused runs that keep their worker. */
  get parked(): number {
    return this.#parkedOrder.filter((run) => run.phase.kind === "parked").length;
  }

  /** Whether another run of any name fits now. */
  hasFreeSlot(): boolean {
    return this.#counts.hasFreeSlot();
  }

  /** The run on a worker, if it has one. */
  runOn(host: RunHost): LiveRun | undefined {
    return this.#hostRuns.get(host);
  }

  /** The task's current run, if it has one (running or parked). */
  live(id: string): LiveRun | undefined {
    return this.#runs.get(id);
  }

  /** Shutdown, first step: every running run is asked to pause at its next checkpoint. */
  pauseAllForShutdown(): void {
    for (const run of this.#runs.values()) {
      if (run.phase.kind !== "running") continue;
      advance(run, { type: "shutdown" });
      run.host.setControl(Control.PAUSE);
    }
  }

  /** Shutdown, after the grace period: the runs that did not pause are ended by force. */
  terminateUnpaused(): void {
    for (const run of [...this.#runs.values()]) {
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
    else if (action !== "pause") this.#askToStop(run, reason ?? `${action} requested`);
  }

  /** A pause asked for and withdrawn before the worker acknowledged it. */
  withdrawPause(run: LiveRun): void {
    const before = advance(run, { type: "withdraw-pause" });
    if (before.kind !== "pause-requested") return; // timing out: the worker is stopping anyway
    run.host.setControl(Control.NONE);
    run.host.post({ type: "resume" });
  }

  /** A parked run whose task was stopped or restarted: let its worker unwind, then reuse it. */
  detachParked(run: LiveRun, reason: string): void {
    advance(run, { type: "detach" });
    this.#runs.delete(run.taskId);
    this.#askToStop(run, reason);
  }

  /** Asks the worker to stop at its next checkpoint; past the grace period it is terminated. */
  #askToStop(run: LiveRun, reason: string): void {
    run.host.setControl(Control.STOP);
    run.host.post({ type: "stop", reason });
    const grace = run.task.stopGraceMs ?? this.options.stopGraceMs;
    if (run.graceTimer) clearTimeout(run.graceTimer);
    run.graceTimer = setTimeout(() => {
      run.graceTimer = undefined;
      this.pool.terminate(run.host);
      this.endRun(run, {
        type: "stopped",
        taskId: run.taskId,
        reason: `did not reach a checkpoint within ${grace} ms; its worker was terminated`,
      });
    }, grace);
  }

  /** Whether a run of `name` may start now: below the concurrency and the name's own limit. */
  canRun(name: string): boolean {
    return this.#counts.canRun(name);
  }

  /**
   * Starts the task's run inside `u`: the concurrency slot and the worker are taken at once,
   * before the RUNNING row is written, so the dispatcher's next `hasFreeSlot()` counts them; the
   * worker is told to run once the row is committed, and everything is given back if it is not.
   */
  async start(u: Unit, id: string, name: string): Promise<void> {
    const registered = this.registry.get(name);
    if (!registered) return;
    const parked = this.#runs.get(id);
    if (parked?.phase.kind === "parked") {
      await this.#resumeParked(u, parked, name);
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
    const run: LiveRun = {
      taskId: id,
      task: registered,
      host,
      phase: RUNNING,
      reportedTotal: false,
      context: { traceparent: null, requestId: null },
      attempt: 1,
      waitingFor: undefined,
      spawnCalls: new Map(),
      segmentStart: performance.now(),
      usedMs: 0,
      timeoutTimer: undefined,
      graceTimer: undefined,
    };
    this.#runs.set(id, run);
    this.#hostRuns.set(host, run);
    this.#counts.add(name, 1);
    let held = true;
    const forget = () => {
      if (!held) return;
      held = false;
      clearRunTimers(run);
      if (this.#runs.get(id) === run) this.#runs.delete(id);
      if (this.#hostRuns.get(host) === run) {
        this.#hostRuns.delete(host);
        this.pool.release(host);
      }
      this.#counts.add(name, -1);
      this.dispatcher.released(id);
    };
    return { run, forget };
  }

  /** Once the RUNNING row is committed, the worker is told to run the task. */
  async #launch(u: Unit, run: LiveRun, task: TaskRecord, forget: () => void): Promise<void> {
    const id = task.id;
    const { host, task: registered } = run;
    const name = registered.name;
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
      if (this.#hostRuns.get(host) !== run) return;
      const asked = requestedAction(run.phase);
      if (!asked) host.setControl(Control.NONE);
      host.post({
        type: "run",
        taskId: id,
        name,
        module: registered.module,
        params: started.params,
        state: started.checkpoint ?? undefined,
        attempt: started.attempt,
        checkpointIntervalMs: registered.checkpointIntervalMs,
        memoryLimitBytes: resolveMemoryLimitBytes(registered, this.options.memoryLimitMb),
        context: contextOf(started),
        parentId: started.parentId ?? undefined,
        limits: this.options.limits,
      });
      // A stop asked for before the run message: the worker had no run to hand it to.
      if (run.phase.kind === "stop-requested" || run.phase.kind === "restart-requested")
        host.post({ type: "stop", reason: run.phase.reason ?? `${asked} requested` });
      this.#armTimeout(run);
    });
  }

  /**
   * This node lost the task's claim: its lease ran out (the node was cut off or stalled) and
   * another node may run the task now. The worker is ended and the slot freed, and nothing is
   * written: every write about the run would be refused by its fence anyway.
   */
  abandon(id: string): boolean {
    this.fences?.release(id);
    const run = this.#runs.get(id);
    if (!run) return false;
    const held = holdsSlot(run.phase);
    clearRunTimers(run);
    this.#runs.delete(id);
    this.#parkedOrder = this.#parkedOrder.filter((parked) => parked !== run);
    if (this.#hostRuns.get(run.host) === run) {
      this.#hostRuns.delete(run.host);
      this.pool.terminate(run.host);
      this.pool.release(run.host);
    }
    if (held) {
      this.#counts.add(run.task.name, -1);
      this.dispatcher.released(id);
    }
    this.dispatcher.request();
    return true;
  }

  /** The ids of the runs on this node that hold a slot. */
  runningIds(): string[] {
    return [...this.#runs.values()].filter((run) => holdsSlot(run.phase)).map((run) => run.taskId);
  }

  /** A parked run goes on where it paused, on the worker it kept. */
  async #resumeParked(u: Unit, parked: LiveRun, name: string): Promise<void> {
    const id = parked.taskId;
    advance(parked, { type: "resume" });
    this.#parkedOrder = this.#parkedOrder.filter((run) => run !== parked);
    parked.segmentStart = performance.now();
    this.#counts.add(name, 1);
    let held = true;
    const repark = () => {
      if (!held) return;
      held = false;
      this.#counts.add(name, -1);
      this.dispatcher.released(id);
      if (this.#runs.get(id) !== parked || parked.phase.kind === "detached") return;
      advance(parked, { type: "resume-undone" });
      this.#parkedOrder.push(parked);
    };
    let resumed: Awaited<ReturnType<Transitions["running"]>>;
    try {
      resumed = await this.transitions.running(u, id, "continues on the worker it paused on", "resume");
    } catch (error) {
      repark();
      throw error;
    }
    if (!resumed) {
      repark();
      return;
    }
    const priority = resumed.priority;
    u.onRollback(() => {
      repark();
      this.dispatcher.requeueAfterFailedStart({ id, name, priority });
      this.dispatcher.request();
    });
    u.afterCommit(() => {
      if (this.#runs.get(id) !== parked || parked.phase.kind === "detached") return;
      if (!requestedAction(parked.phase)) parked.host.setControl(Control.NONE);
      parked.host.post({ type: "resume" });
      this.#armTimeout(parked);
    });
  }

  #armTimeout(run: LiveRun): void {
    const limit = run.task.timeoutMs;
    if (limit === undefined) return;
    run.timeoutTimer = setTimeout(
      () => {
        run.timeoutTimer = undefined;
        const before = advance(run, { type: "timeout" });
        if (before === run.phase) return; // already stopping, or parked
        this.#askToStop(run, `timed out after ${limit} ms`);
      },
      Math.max(0, limit - run.usedMs),
    );
  }

  /** The write a pause acknowledged at a checkpoint needs, or none when the run is past it. */
  pausedAt(run: LiveRun, state: unknown, at: number): EngineWrite | undefined {
    // Withdrawn, or a stop (or the timeout) is on its way: the pause is not taken.
    const pausing = () =>
      (run.phase.kind === "pause-requested" || run.phase.kind === "shutting-down") &&
      this.#hostRuns.get(run.host) === run;
    if (!pausing()) return undefined;
    clearRunTimers(run);
    const ranMs = at - run.segmentStart;
    return async (u) => {
      // A kept pause written late must not touch a run that has ended since.
      const phase = run.phase;
      if (!pausing()) return;
      if (phase.kind === "pause-requested") {
        const paused = await this.transitions.paused(u, run.taskId, state, phase.reason, phase.by, ranMs);
        if (!paused) return;
      } else {
        const reason = "paused at a checkpoint for shutdown; resumes on the next start";
        if (!(await this.transitions.requeued(u, run.taskId, reason, ENGINE, state, ranMs))) return;
      }
      u.afterCommit(() => {
        if (!holdsSlot(run.phase) || this.#hostRuns.get(run.host) !== run) return;
        run.usedMs += ranMs;
        advance(run, { type: "paused" });
        this.#parkedOrder.push(run);
        this.#counts.add(run.task.name, -1);
        this.dispatcher.released(run.taskId);
        this.#releaseExcessParked();
        this.dispatcher.request();
      });
    };
  }

  /** Keeps at most `maxParkedWorkers` paused tasks on live workers; older ones give theirs back. */
  #releaseExcessParked(): void {
    this.#parkedOrder = this.#parkedOrder.filter((run) => run.phase.kind === "parked");
    while (this.#parkedOrder.length > this.options.maxParkedWorkers && this.hooks.accepting()) {
      const oldest = this.#parkedOrder.shift();
      if (!oldest) break;
      advance(oldest, { type: "detach" });
      this.#runs.delete(oldest.taskId);
      oldest.host.post({ type: "release" });
    }
  }

  /**
   * The worker reported (or was made to report) the end of a run: once the task's lane is free,
   * the run is over in memory and its end is written in the turn's commit.
   */
  endRun(run: LiveRun, end: RunEnd, cause?: "shutdown"): void {
    // Measured now: a write kept through a storage fault is made later.
    const at = performance.now();
    this.commits.defer(run.taskId, `the end of task ${run.taskId}`, () => this.#endNow(run, end, cause, at));
  }

  #endNow(run: LiveRun, end: RunEnd, cause: "shutdown" | undefined, at: number): EngineWrite | undefined {
    if (this.#hostRuns.get(run.host) !== run) return undefined;
    const held = holdsSlot(run.phase);
    const ranMs = held ? Math.max(0, at - run.segmentStart) : 0;
    clearRunTimers(run);
    this.#hostRuns.delete(run.host);
    if (this.#runs.get(run.taskId) === run) this.#runs.delete(run.taskId);
    if (held) {
      this.#counts.add(run.task.name, -1);
      this.dispatcher.released(run.taskId);
    }
    // A parked run ends when its worker crashes or gives its task back: it parks nothing any more.
    else this.#parkedOrder = this.#parkedOrder.filter((parked) => parked !== run);
    this.pool.release(run.host);
    this.dispatcher.request();
    if (!held) return undefined;
    // If the database refuses the write, the outcome is kept and written later; the row
    // stays RUNNING meanwhile, and the task never runs twice in this process.
    return (u) => this.settlement.settleSafely(u, run, end, cause, ranMs);
  }

  untilIdle(timeoutMs: number): Promise<void> {
    return this.#counts.untilIdle(timeoutMs);
  }
}
