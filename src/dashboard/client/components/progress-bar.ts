import { html } from "htm/preact";
import { progressText } from "../format.ts";
import type { TaskJson } from "../types.ts";

/**
 * A bar with the percent and the task's own message; a count alone when the total is unknown.
 * The bar takes the status's colour, so a run that ended part-way reads as such at a glance.
 */
export function ProgressBar({
  progress,
  status,
}: {
  progress: TaskJson["progress"];
  status: TaskJson["status"];
}) {
  if (!progress) return html`<span class="muted">—</span>`;
  const percent = progress.percent === null ? null : Math.max(0, Math.min(100, progress.percent));
  const text = progressText(progress);
  return html`<div class="progress-cell">
    <div
      class=${`progress progress-${status.toLowerCase()}${percent === null ? " progress-unknown" : ""}`}
      role="progressbar"
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${percent ?? undefined}
      aria-valuetext=${text}
    >
      <div class="progress-fill" style=${{ width: `${percent ?? 100}%` }}></div>
    </div>
    <span class="progress-text" title=${text}>${text}</span>
  </div>`;
}
