import type { TaskRecord } from "../../store/index.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { TaskLanes } from "../commit/task-lanes.ts";
import { Unit } from "../commit/unit.ts";
import type { WriteRetry } from "../commit/write-retry.ts";
import { IllegalTransitionError, KilnError, RunEndNotWrittenError, TaskNotFoundError } from "../errors.ts";
import type { EventHub } from "../events.ts";
import type { ControlOptions, ControlResult } from "../manager-options.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";
import type { RunExecutor } from "../runs/run-executor.ts";
import { type ControlAction, decideControl } from "./lifecycle.ts";
import type { SelfRestarts } from "./self-restarts.ts";
import { type Requester, TASK_ITSELF, type Transitions } from "./transitions.ts";

export interface TaskControlParts {
  store: GuardedStore;
  hub: EventHub;
  lanes: TaskLanes;
  transitions: Transitions;
  executor: RunExecutor;
  dispatcher: TaskDispatch;
  writes: WriteRetry;
  selfRestarts: SelfRestarts;
  /**
   * On a database nodes share: tells the node running the task that a request was stored for it
   * (it also reads it from its next heartbeat). Undefined when one node runs every task.
   */
  announceRequest: ((task: TaskRecord) => Promise<void>) | undefined;
}

/**
 * How often a request decides again when the task changed between its read and its guarded
 * write (a run started or ended meanwhile). Each change is a real transition, so a few suffice.
 */
const MAX_DECISIONS = 5;

/**
 * Carries out a control request (pause, resume, stop, restart) on one task, as `decideControl`
 * decides it: refused, done at once (the write first, then the queue and the workers), or asked
 * of the running task and acknowledged at its next checkpoint. It holds the task's lane from its
 * read to its commit, so it decides from what the engine's own writes for the task left; a
 * guarded write that finds the task moved on (a start committed meanwhile) decides again.
 */
export class TaskControl {
  constructor(private readonly parts: TaskControlParts) {}

  apply(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult> {
    return this.parts.lanes.run(id, async () => {
      for (let decision = 1; ; decision++) {
        const task = await this.parts.store.getTask(id);
        if (!task) throw new TaskNotFoundError(id);
        const result = await this.#applyTo(action, task, options);
        if (result) return result;
        if (decision >= MAX_DECISIONS)
          throw new IllegalTransitionError(`the task changed while handling ${action}; try again`);
      }
    });
  }

  /** Undefined when the task was no longer as read: decide again. */
  async #applyTo(
    action: ControlAction,
    task: TaskRecord,
    options: ControlOptions,
  ): Promise<ControlResult | undefined> {
    const id = task.id;
    const by: Requester = { actor: options.actor ?? null, source: options.source ?? null };
    const reason = options.reason ?? null;
    const decision = decideControl(action, task);
    // A task restarting itself in a row waits longer each time; a person's stop or restart ends that.
    if ((action === "stop" || action === "restart") && by.actor !== TASK_ITSELF.actor) {
      this.parts.selfRestarts.forget(id);
    }
    switch (decision.kind) {
      case "refuse":
        throw new IllegalTransitionError(decision.message, {
          status: task.status,
          requestedAction: task.requestedAction,
        });
      case "pending":
        return { task, pending: true };
      case "withdraw-pause": {
        const updated = await this.#write((u) => this.parts.transitions.withdrawPause(u, id, reason, by));
        if (!updated) return undefined;
        const run = this.parts.executor.live(id);
        if (run) this.parts.executor.withdrawPause(run);
        else if (this.parts.announceRequest) await this.parts.announceRequest(updated).catch(() => undefined);
        return { task: updated, pending: false };
      }
      case "request": {
        const updated = await this.#requestFromRun(action as "pause" | "stop" | "restart", task, reason, by);
        return updated && { task: updated, pending: true };
      }
      case "now": {
        const updated = await this.#controlNow(action, task, reason, by);
        return updated && { task: updated, pending: false };
      }
    }
  }

  #write(fn: (u: Unit) => Promise<TaskRecord | undefined>): Promise<TaskRecord | undefined> {
    return Unit.run(this.parts.store, this.parts.hub, fn);
  }

  async #requestFromRun(
    action: "pause" | "stop" | "restart",
    task: TaskRecord,
    reason: string | null,
    by: Requester,
  ): Promise<TaskRecord | undefined> {
    const run = this.parts.executor.live(task.id);
    const announce = this.parts.announceRequest;
    if (!run && announce && task.node !== null) {
      // Another node runs it: the request is stored for that node, which acts at its next checkpoint.
      const updated = await this.#write((u) =>
        this.parts.transitions.requested(u, task.id, action, reason, by),
      );
      if (updated) await announce(updated).catch(() => undefined);
      return updated;
    }
    if (!run || run.phase.kind === "parked") {
      // Its run ended while the database could not be written; the end is waiting to be written.
      if (this.parts.writes.size > 0) throw new RunEndNotWrittenError(task.id);
      throw new KilnError("internal", 500, `task ${task.id} is RUNNING but has no live run`);
    }
    // A pause is signalled to the worker at once, so its next checkpoint runs while the request
    // is written rather than after. Its acknowledgement is decided in this task's lane, which this
    // request holds until its commit, so it is never written before the request; a request that
    // is not written takes the signal back.
    const early = action === "pause" && this.parts.executor.signalPauseEarly(run);
    let updated: TaskRecord | undefined;
    try {
      updated = await this.#write((u) => this.parts.transitions.requested(u, task.id, action, reason, by));
    } catch (error) {
      if (early) this.parts.executor.takeBackEarlyPause(run);
      throw error;
    }
    if (updated) this.parts.executor.request(run, action, reason, by);
    else if (early) this.parts.executor.takeBackEarlyPause(run);
    return updated;
  }

  async #controlNow(
    action: ControlAction,
    task: TaskRecord,
    reason: string | null,
    by: Requester,
  ): Promise<TaskRecord | undefined> {
    const { transitions, dispatcher, executor } = this.parts;
    const id = task.id;
    // The write comes first: if the database refuses it, the queue and the workers are untouched.
    const updated = await this.#write((u) => {
      if (action === "pause") return transitions.pausedBeforeStart(u, id, reason, by);
      if (action === "resume") return transitions.resumed(u, id, reason, by);
      if (action === "stop") return transitions.stopped(u, id, reason, by);
      return transitions.restarted(u, id, reason, by);
    });
    if (!updated) return undefined;
    if (action !== "resume") {
      dispatcher.remove(id);
      const run = executor.live(id);
      if ((action === "stop" || action === "restart") && run?.phase.kind === "parked")
        executor.detachParked(run, reason ?? `${action} requested`);
    }
    if (updated.status === "PENDING") dispatcher.enqueue(updated);
    dispatcher.request();
    return updated;
  }
}
