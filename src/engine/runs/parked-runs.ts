import { Control } from "../../worker/protocol.ts";
import type { Unit } from "../commit/unit.ts";
import type { EngineWrite } from "../commit/write-retry.ts";
import { holdsSlot, requestedAction } from "../lifecycle/run-phase.ts";
import { ENGINE, type Transitions } from "../lifecycle/transitions.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { RunExecutorHooks, RunExecutorOptions, RunExecutorParts } from "./run-executor.ts";
import type { RunTable } from "./run-table.ts";
import type { RunTimers } from "./run-timers.ts";
import { advance, clearRunTimers, type LiveRun } from "./runs.ts";

/**
 * The paused runs that keep their worker (parked): a pause acknowledged at a checkpoint, the
 * resume on the worker the run paused on, and the oldest parked runs giving their workers back
 * past `maxParkedWorkers`.
 */
export class ParkedRuns {
  /** Oldest first; may hold runs that left the parked phase since, until the next release. */
  #order: LiveRun[] = [];

  private readonly transitions: Transitions;
  private readonly dispatcher: TaskDispatch;

  constructor(
    private readonly table: RunTable,
    private readonly timers: RunTimers,
    parts: Pick<RunExecutorParts, "transitions" | "dispatcher">,
    private readonly options: Pick<RunExecutorOptions, "maxParkedWorkers">,
    private readonly hooks: Pick<RunExecutorHooks, "accepting">,
  ) {
    this.transitions = parts.transitions;
    this.dispatcher = parts.dispatcher;
  }

  /** Paused runs that keep their worker. */
  get count(): number {
    return this.#order.filter((run) => run.phase.kind === "parked").length;
  }

  /** The run parks nothing any more (it ended, or was abandoned). */
  remove(run: LiveRun): void {
    this.#order = this.#order.filter((parked) => parked !== run);
  }

  /** A parked run goes on where it paused, on the worker it kept. */
  async resume(u: Unit, parked: LiveRun, name: string): Promise<void> {
    const id = parked.taskId;
    advance(parked, { type: "resume" });
    this.remove(parked);
    parked.segmentStart = performance.now();
    this.table.counts.add(name, 1);
    let held = true;
    const repark = () => {
      if (!held) return;
      held = false;
      this.table.freeSlot(name, id);
      if (this.table.byTask.get(id) !== parked || parked.phase.kind === "detached") return;
      advance(parked, { type: "resume-undone" });
      this.#order.push(parked);
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
      if (this.table.byTask.get(id) !== parked || parked.phase.kind === "detached") return;
      if (!requestedAction(parked.phase)) parked.host.setControl(Control.NONE);
      parked.host.post({ type: "resume" });
      this.timers.armTimeout(parked);
    });
  }

  /** The write a pause acknowledged at a checkpoint needs, or none when the run is past it. */
  pausedAt(run: LiveRun, state: unknown, at: number): EngineWrite | undefined {
    // Withdrawn, or a stop (or the timeout) is on its way: the pause is not taken.
    const pausing = () =>
      (run.phase.kind === "pause-requested" || run.phase.kind === "shutting-down") &&
      this.table.byHost.get(run.host) === run;
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
        if (!holdsSlot(run.phase) || this.table.byHost.get(run.host) !== run) return;
        run.usedMs += ranMs;
        advance(run, { type: "paused" });
        this.#order.push(run);
        this.table.freeSlot(run.task.name, run.taskId);
        this.#releaseExcess();
        this.dispatcher.request();
      });
    };
  }

  /** Keeps at most `maxParkedWorkers` paused tasks on live workers; older ones give theirs back. */
  #releaseExcess(): void {
    this.#order = this.#order.filter((run) => run.phase.kind === "parked");
    while (this.#order.length > this.options.maxParkedWorkers && this.hooks.accepting()) {
      const oldest = this.#order.shift();
      if (!oldest) break;
      advance(oldest, { type: "detach" });
      this.table.byTask.delete(oldest.taskId);
      oldest.host.post({ type: "release" });
    }
  }
}
