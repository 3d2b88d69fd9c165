import type { TransitionEvent } from "../engine/index.ts";
import { iso, presentTask } from "../http/presenters.ts";

/** The event types a webhook receives, by the history's action. */
const TYPES: Record<string, string> = {
  create: "task.created",
  start: "task.started",
  resume: "task.resumed",
  pause: "task.paused",
  stop: "task.stopped",
  restart: "task.restarted",
  requeue: "task.requeued",
  finish: "task.finished",
  fail: "task.failed",
  retry: "task.retried",
};

/** `task.finished`, …; any run that begins is `task.started`. */
export function webhookEventType(event: TransitionEvent): string {
  if (event.to === "RUNNING") return "task.started";
  return TYPES[event.action] ?? `task.${event.action}`;
}

/**
 * The JSON body of one delivery: the transition, and the task as `GET /tasks/:id` shows it
 * without its params and result (they can be large or sensitive; the receiver may fetch them).
 */
export function webhookBody(id: string, event: TransitionEvent): string {
  const { params: _params, result: _result, ...task } = presentTask(event.task);
  return JSON.stringify({
    id,
    type: webhookEventType(event),
    at: iso(event.at),
    from: event.from,
    to: event.to,
    action: event.action,
    reason: event.reason,
    actor: event.actor,
    task,
  });
}
