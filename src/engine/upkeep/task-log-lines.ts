import type { Logger } from "../logger.ts";
import type { TransitionEvent, TransitionObserver } from "../observers.ts";

/** The message of each transition's line, by the history's action. */
const MESSAGES: Record<string, string> = {
  create: "task created",
  start: "task started",
  resume: "task resumed",
  pause: "task paused",
  stop: "task stopped",
  restart: "task restarted",
  requeue: "task requeued",
  finish: "task finished",
  fail: "task failed",
  retry: "task retried",
};

/** The error a failed task carries, as one line: "Name: message". */
function errorText(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (typeof message !== "string") return undefined;
  return typeof name === "string" && name !== "" ? `${name}: ${message}` : message;
}

/** The fields of one transition's line. */
export function taskLineFields(event: TransitionEvent): Record<string, unknown> {
  const { task } = event;
  const fields: Record<string, unknown> = {
    taskId: task.id,
    name: task.taskName,
    attempt: task.attempt,
    from: event.from,
    status: event.to,
  };
  // From the start of this attempt to this transition (or to the end); absent before it started.
  // A start's own line says 0: the row's start time and the transition's time are two clock
  // reads, which may fall on either side of a millisecond.
  if (task.startTime !== null) {
    fields.durationMs = event.action === "start" ? 0 : (task.endTime ?? event.at) - task.startTime;
  }
  if (event.to === "FAILED") fields.error = errorText(task.error) ?? event.reason;
  else if (event.reason !== null) fields.reason = event.reason;
  if (event.action === "retry" && task.runAt !== null) fields.retryAt = new Date(task.runAt).toISOString();
  // Who asked, when it was not the engine itself.
  if (event.actor !== null && event.actor !== "kiln") fields.actor = event.actor;
  return fields;
}

/**
 * An observer that writes one line per task transition to `logger`: "task created", "task
 * started", … at info, "task failed" at warn with the error. Each line has the task's id, name,
 * attempt, the statuses and `durationMs` (from the attempt's start). `kiln serve` registers it
 * with `manager.onTransition(logTaskTransitions(logger))`.
 */
export function logTaskTransitions(logger: Logger): TransitionObserver {
  return (event) => {
    // A run that begins is "started", also when it continues on the worker it paused on.
    const message =
      event.to === "RUNNING" ? "task started" : (MESSAGES[event.action] ?? `task ${event.action}`);
    if (event.to === "FAILED") logger.warn(message, taskLineFields(event));
    else logger.info(message, taskLineFields(event));
  };
}
