import type { TaskRecord } from "../../store/index.ts";
import type { Unit } from "../commit/unit.ts";
import type { TaskRegistry } from "../registry.ts";
import { interruptedError, type RunSettlement } from "./run-settlement.ts";
import { ENGINE, type Transitions } from "./transitions.ts";

/**
 * At start-up, every task the database holds as active is put back where it belongs: PENDING
 * queued again, PAUSED kept with its checkpoint, a RUNNING one (interrupted) resumed from its
 * checkpoint, failed or retried, or given what was asked of it before the restart. Each writes
 * a history row, all in `u`'s transaction; the queue hears of them once it is committed.
 */
/** What the history says a task's run was interrupted by. */
export interface Interruption {
  /** "a restart of kiln", or the loss of the node that ran it. */
  by: string;
  /** Where a kept request was asked: "before the restart". */
  asked: string;
}

export const RESTART: Interruption = { by: "a restart of kiln", asked: "before the restart" };

export async function restoreActiveTasks(
  u: Unit,
  active: readonly TaskRecord[],
  registry: TaskRegistry,
  transitions: Transitions,
  settlement: RunSettlement,
  enqueue: (task: TaskRecord) => void,
  interruption: Interruption = RESTART,
): Promise<void> {
  const { by, asked } = interruption;
  const enqueueIfSet = (task: TaskRecord | undefined) => {
    if (task?.status === "PENDING") u.afterCommit(() => enqueue(task));
  };
  for (const task of active) {
    const registered = registry.get(task.taskName);
    const actor = ENGINE;
    if (task.status === "PENDING") {
      await transitions.note(u, task, "restore", "queued again after a restart", actor);
      enqueueIfSet(task);
    } else if (task.status === "PAUSED") {
      await transitions.note(u, task, "restore", "kept PAUSED after a restart", actor);
    } else if (task.requestedAction === "stop") {
      await transitions.runStopped(u, task.id, `the stop asked for ${asked}`, actor);
    } else if (task.requestedAction === "pause") {
      await transitions.paused(u, task.id, undefined, `the pause asked for ${asked}`, actor);
    } else if (task.requestedAction === "restart") {
      enqueueIfSet(await transitions.runRestarted(u, task, `the restart asked for ${asked}`, actor));
    } else if (!registered || registered.resumable) {
      const reason = `interrupted by ${by}; resumes from its last checkpoint`;
      enqueueIfSet(await transitions.requeued(u, task.id, reason, actor));
    } else {
      await settlement.failOrRetry(
        u,
        task,
        registered,
        interruptedError(`interrupted by ${by}; the task is not resumable`),
      );
    }
  }
}
