import type { TaskRecord } from "../../store/index.ts";
import { IllegalTransitionError } from "../errors.ts";
import type { EngineParts } from "../manager-parts.ts";

/**
 * Deletes `task` (as just read) with its history and logs, if it has ended; an active one is
 * refused. What is kept of it beside the row goes too: its buffered telemetry, and its place in
 * the counts of this node and of the others.
 */
export async function deleteEndedTask(
  parts: Pick<EngineParts, "guard" | "telemetry" | "counts" | "runtime">,
  task: TaskRecord,
): Promise<void> {
  const { id } = task;
  if (!(await parts.guard.deleteTask(id))) {
    throw new IllegalTransitionError(`cannot delete a ${task.status} task: stop it first`, {
      status: task.status,
    });
  }
  parts.telemetry.discard(id);
  const deleted = [{ id, status: task.status, name: task.taskName }];
  parts.counts.deleted(deleted);
  parts.runtime?.deleted(deleted);
}
