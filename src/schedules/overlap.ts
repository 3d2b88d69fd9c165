/**
 * Whether a fire time creates its task while the schedule's previous task may still be active.
 * Pure: the caller looks the previous task up (in the same transaction as the fire).
 *
 * - `allow`: fire.
 * - `skip`: while the previous task is PENDING, RUNNING or PAUSED, do not fire; the fire time
 *   counts as done (nextRunAt moves on) and `reason` is what to record for the skip. A final
 *   previous task (FINISHED, FAILED, STOPPED) or none: fire.
 * - `queue`: fire; while the previous task is active the new one is created to wait for it
 *   (`after` names it). When several fire times are due at once (misfire `all`), each waits for
 *   the one before it, and with `skip` only the first fires, since it is PENDING for the rest.
 */
import type { OverlapPolicy } from "../task/schedule.ts";
import { ACTIVE_STATUSES, type TaskStatus } from "../task/status.ts";

/** The schedule's latest task, as the caller finds it. */
export interface PreviousTask {
  id: string;
  status: TaskStatus;
}

export type OverlapDecision =
  | { action: "fire" }
  | { action: "queue"; after: string }
  | { action: "skip"; reason: string };

export function decideOverlap(policy: OverlapPolicy, previous: PreviousTask | null): OverlapDecision {
  if (policy === "allow" || previous === null || !ACTIVE_STATUSES.includes(previous.status)) {
    return { action: "fire" };
  }
  if (policy === "queue") return { action: "queue", after: previous.id };
  return {
    action: "skip",
    reason: `overlap "skip": the previous task ${previous.id} is still ${previous.status}`,
  };
}
