import type { TaskRecord } from "../../store/index.ts";
import type { TaskStatus } from "../../task/index.ts";

export type ControlAction = "pause" | "resume" | "stop" | "restart";

/** What a control request does to a task in a given state. */
export type ControlDecision =
  /** Illegal here: answer 409 with this message. */
  | { kind: "refuse"; message: string }
  /** Done at once: move to `to` now. */
  | { kind: "now"; to: TaskStatus }
  /** The running task must acknowledge at its next checkpoint: store the request, answer 202. */
  | { kind: "request" }
  /** The same request is already waiting for the task: answer 202 again. */
  | { kind: "pending" }
  /** Resume of a RUNNING task whose pause is not acknowledged yet: withdraw the pause. */
  | { kind: "withdraw-pause" };

/**
 * The task state machine (README, "The task lifecycle") for control requests, as one pure function:
 *
 *   PENDING ⇄ PAUSED (pause / resume, at once)      RUNNING → PAUSED (pause, at a checkpoint)
 *   PENDING | RUNNING | PAUSED → STOPPED (stop)      any → PENDING (restart; a live run is stopped first)
 */
export function decideControl(
  action: ControlAction,
  task: Pick<TaskRecord, "status" | "requestedAction">,
): ControlDecision {
  const { status, requestedAction } = task;
  switch (action) {
    case "pause":
      if (status === "PENDING") return { kind: "now", to: "PAUSED" };
      if (status === "RUNNING") {
        if (requestedAction === "pause") return { kind: "pending" };
        if (requestedAction)
          return { kind: "refuse", message: `a ${requestedAction} of this task is already in progress` };
        return { kind: "request" };
      }
      if (status === "PAUSED") return { kind: "refuse", message: "the task is already PAUSED" };
      return { kind: "refuse", message: `cannot pause a ${status} task: it has ended` };
    case "resume":
      if (status === "PAUSED") return { kind: "now", to: "PENDING" };
      if (status === "RUNNING" && requestedAction === "pause") return { kind: "withdraw-pause" };
      return { kind: "refuse", message: `cannot resume a ${status} task: only a PAUSED task can be resumed` };
    case "stop":
      if (status === "PENDING" || status === "PAUSED") return { kind: "now", to: "STOPPED" };
      if (status === "RUNNING") {
        if (requestedAction === "stop") return { kind: "pending" };
        if (requestedAction === "restart")
          return { kind: "refuse", message: "a restart of this task is already in progress" };
        return { kind: "request" };
      }
      return { kind: "refuse", message: `cannot stop a ${status} task: it has already ended` };
    case "restart":
      if (status === "RUNNING") {
        if (requestedAction === "restart") return { kind: "pending" };
        if (requestedAction === "stop")
          return { kind: "refuse", message: "a stop of this task is already in progress" };
        return { kind: "request" };
      }
      return { kind: "now", to: "PENDING" };
  }
}
