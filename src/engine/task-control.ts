import type { TaskRecord } from "../store/index.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { IllegalTransitionError, KilnError, RunEndNotWrittenError } from "./errors.ts";
import { type ControlAction, decideControl } from "./lifecycle.ts";
import type { ControlOptions, ControlResult } from "./manager-options.ts";
import type { RunExecutor } from "./run-executor.ts";
import type { SelfRestarts } from "./self-restarts.ts";
import { type Requester, TASK_ITSELF, type Transitions } from "./transitions.ts";
import type { WriteRetry } from "./write-retry.ts";

export interface TaskControlParts {
  transitions: Transitions;
  executor: RunExecutor;
  dispatcher: Dispatcher;
  writes: WriteRetry;
  selfRestarts: SelfRestarts;
}

/**
 * Carries out a control request (pause, resume, stop, restart) on one task, as `decideControl`
 * decides it: refused, done at once (the write first, then the queue and the workers), or asked
 * of the running task and acknowledged at its next checkpoint.
 */
export class TaskControl {
  constructor(private readonly parts: TaskControlParts) {}

  apply(action: ControlAction, task: TaskRecord, options: ControlOptions): ControlResult {
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
        const run = this.parts.executor.live(id);
        const updated = this.parts.transitions.withdrawPause(task, reason, by);
        if (run) this.parts.executor.withdrawPause(run);
        return { task: updated, pending: false };
      }
      case "request":
        return {
          task: this.#requestFromRun(action as "pause" | "stop" | "restart", task, reason, by),
          pending: true,
        };
      case "now":
        return { task: this.#controlNow(action, task, reason, by), pending: false };
    }
  }

  #requestFromRun(
    action: "pause" | "stop" | "restart",
    task: TaskRecord,
    reason: string | null,
    by: Requester,
  ) {
    const run = this.parts.executor.live(task.id);
    if (!run || run.parked) {
      // Its run ended while the database could not be written; the end is waiting to be written.
      if (this.parts.writes.size > 0) throw new RunEndNotWrittenError(task.id);
      throw new KilnError("internal", 500, `task ${task.id} is RUNNING but has no live run`);
    }
    const updated = this.parts.transitions.requested(task, action, reason, by);
    this.parts.executor.request(run, action, reason, by);
    return updated;
  }

  #controlNow(action: ControlAction, task: TaskRecord, reason: string | null, by: Requester): TaskRecord {
    const run = this.parts.executor.live(task.id);
    let updated: TaskRecord | undefined;
    // The write comes first: if the database refuses it, the queue and the workers are untouched.
    if (action === "pause") {
      updated = this.parts.transitions.paused(task.id, undefined, reason, by, "PENDING");
      if (updated) this.parts.dispatcher.remove(task.id);
    } else if (action === "resume") {
      updated = this.parts.transitions.resumed(task.id, reason, by);
      if (updated) this.parts.dispatcher.enqueue(updated);
    } else {
      updated =
        action === "stop"
          ? this.parts.transitions.stopped(task.id, task.status, reason, by)
          : this.parts.transitions.restarted(task, reason, by);
      if (updated) {
        this.parts.dispatcher.remove(task.id);
        if (run?.parked) this.parts.executor.detachParked(run, reason ?? `${action} requested`);
      }
      if (updated?.status === "PENDING") this.parts.dispatcher.enqueue(updated);
    }
    if (!updated) throw new IllegalTransitionError(`the task changed while handling ${action}; try again`);
    this.parts.dispatcher.request();
    return updated;
  }
}
