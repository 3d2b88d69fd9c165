import { html } from "htm/preact";
import { formatTime } from "../format.ts";
import type { EventJson } from "../types.ts";

function change(event: EventJson): string {
  if (event.to === null) return `${event.action} requested`;
  if (event.from === null) return `created as ${event.to}`;
  return event.from === event.to ? event.action : `${event.from} → ${event.to}`;
}

/** A task's transitions and control requests, oldest first. */
export function HistoryTimeline({ events }: { events: EventJson[] }) {
  if (events.length === 0) return html`<p class="muted">No history yet.</p>`;
  return html`<ol class="timeline">
    ${events.map(
      (event) => html`<li key=${event.id} class=${event.to ? `to-${event.to.toLowerCase()}` : "request"}>
        <time datetime=${event.at}>${formatTime(event.at)}</time>
        <span class="change">${change(event)}</span>
        <span class="muted">${event.action}${event.actor ? ` by ${event.actor}` : ""}${event.source ? ` from ${event.source}` : ""}</span>
        ${event.reason && html`<span class="reason">${event.reason}</span>`}
      </li>`,
    )}
  </ol>`;
}
