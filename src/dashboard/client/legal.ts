import { decideControl } from "../../engine/lifecycle/lifecycle.ts";
import { FINAL_STATUSES } from "../../task/status.ts";
import type { ControlAction, TaskJson } from "./types.ts";

const ACTIONS: readonly ControlAction[] = ["pause", "resume", "stop", "restart"];

/**
 * The actions worth offering for a task: the engine's own decision table says which are legal,
 * and one already requested (a pause waiting for its checkpoint) is not offered twice.
 */
export function offeredActions(task: Pick<TaskJson, "status" | "requestedAction">): ControlAction[] {
  return ACTIONS.filter((action) => {
    const decision = decideControl(action, task);
    return decision.kind !== "refuse" && decision.kind !== "pending";
  });
}

/** Only a task that has ended can be deleted. */
export function canDelete(task: Pick<TaskJson, "status">): boolean {
  return FINAL_STATUSES.includes(task.status);
}

/** "pausing…" while a pause waits for the task's checkpoint; the status otherwise. */
export function statusLabel(task: Pick<TaskJson, "status" | "requestedAction">): string {
  switch (task.requestedAction) {
    case "pause":
      return "pausing…";
    case "stop":
      return "stopping…";
    case "restart":
      return "restarting…";
    default:
      return task.status;
  }
}
