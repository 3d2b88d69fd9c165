import type { SyncTaskStore, TaskRecord } from "../store/index.ts";
import type { TaskRegistry } from "./registry.ts";
import { interruptedError, type RunSettlement } from "./run-settlement.ts";
import { ENGINE, type Transitions } from "./transitions.ts";

/**
 * At start-up, every task the database holds as active is put back where it belongs: PENDING
 * queued again, PAUSED kept with its checkpoint, a RUNNING one (interrupted) resumed from its
 * checkpoint, failed or retried, or given what was asked of it before the restart. Each writes
 * a history row.
 */
export function restoreActiveTasks(
  store: SyncTaskStore,
  registry: TaskRegistry,
  transitions: Transitions,
  settlement: RunSettlement,
  enqueue: (task: TaskRecord) => void,
): void {
  const enqueueIfSet = (task: TaskRecord | undefined) => {
    if (task?.status === "PENDING") enqueue(task);
  };
  for (const task of store.listActive()) {
    const registered = registry.get(task.taskName);
    const actor = ENGINE;
    if (task.status === "PENDING") {
      transitions.note(task, "restore", "queued again after a restart", actor);
      enqueue(task);
    } else if (task.status === "PAUSED") {
      transitions.note(task, "restore", "kept PAUSED after a restart", actor);
    } else if (task.requestedAction === "stop") {
      transitions.stopped(task.id, "RUNNING", "the stop asked for before the restart", actor);
    } else if (task.requestedAction === "pause") {
      transitions.paused(task.id, undefined, "the pause asked for before the restart", actor);
    } else if (task.requestedAction === "restart") {
      enqueueIfSet(transitions.restarted(task, "the restart asked for before the restart", actor));
    } else if (!registered || registered.resumable) {
      const reason = "interrupted by a restart of kiln; resumes from its last checkpoint";
      enqueueIfSet(transitions.requeued(task.id, "RUNNING", reason, actor));
    } else {
      settlement.failOrRetry(
        task,
        registered,
        interruptedError("interrupted by a restart of kiln; the task is not resumable"),
      );
    }
  }
}
