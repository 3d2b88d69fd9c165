import { html } from "htm/preact";
import { statusLabel } from "../legal.ts";
import type { TaskJson } from "../types.ts";

/** The status, coloured; "pausing…" and the like while a request waits for the task. */
export function StatusBadge({ task }: { task: Pick<TaskJson, "status" | "requestedAction"> }) {
  const pending = task.requestedAction !== null;
  const title = pending ? `${task.status}, ${task.requestedAction} requested` : task.status;
  return html`<span
    class=${`status status-${task.status.toLowerCase()}${pending ? " status-requested" : ""}`}
    title=${title}
    >${statusLabel(task)}</span
  >`;
}
