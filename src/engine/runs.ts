import type { RequestedAction } from "../task/index.ts";
import type { RegisteredTask } from "./registry.ts";
import type { TaskSlot } from "./slot.ts";
import type { Requester } from "./transitions.ts";

/** One run of a task on a worker, from assignment until the worker reports its end. */
export interface LiveRun {
  taskId: string;
  task: RegisteredTask;
  slot: TaskSlot;
  /** Paused at a checkpoint: the worker keeps the task's stack but the run holds no concurrency slot. */
  parked: boolean;
  /** No longer the task's current run (it was stopped or restarted while parked); its end changes nothing. */
  detached: boolean;
  /** The control request the worker has not acknowledged yet. */
  requested: RequestedAction | undefined;
  requestReason: string | null;
  requestBy: Requester;
  /** Why the engine itself asked this run to stop or pause. */
  cause: "timeout" | "shutdown" | undefined;
  /**
   * The task's progress has a total (reported in this run, or stored before it): its end as
   * FINISHED completes the progress. Tasks that report none skip that part of the write.
   */
  reportedTotal: boolean;
  /** The task's request context, which the children it spawns continue. */
  context: { traceparent: string | null; requestId: string | null };
  /** performance.now() when the current running stretch began. */
  segmentStart: number;
  /** Running time before the current stretch (paused time excluded), for the timeout. */
  usedMs: number;
  timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
}

export function clearRunTimers(run: LiveRun): void {
  if (run.timeoutTimer) clearTimeout(run.timeoutTimer);
  if (run.graceTimer) clearTimeout(run.graceTimer);
  run.timeoutTimer = undefined;
  run.graceTimer = undefined;
}
