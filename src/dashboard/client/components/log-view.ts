import { html } from "htm/preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { LogJson } from "../types.ts";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function clock(iso: string | null): string {
  if (iso === null) return "—";
  const at = new Date(iso);
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** How close to the bottom still counts as reading the newest lines. */
const STICKY_PX = 24;

/**
 * A task's log, following new lines while the reader is at the bottom (scrolling up stops
 * that until they scroll back down). Lines are text: a line with markup shows the markup.
 */
export function LogView({ logs, dropped }: { logs: LogJson[]; dropped: number }) {
  const list = useRef<HTMLOListElement>(null);
  const sticky = useRef(true);

  useLayoutEffect(() => {
    const element = list.current;
    if (element && sticky.current) element.scrollTop = element.scrollHeight;
  }, [logs]);

  const onScroll = () => {
    const element = list.current;
    if (element) sticky.current = element.scrollHeight - element.scrollTop - element.clientHeight < STICKY_PX;
  };

  return html`<div class="log-wrap">
    ${dropped > 0 && html`<p class="muted">${dropped} earlier lines are not shown.</p>`}
    ${logs.length === 0 && html`<p class="muted">No log lines yet.</p>`}
    <ol class="log" role="log" aria-label="Log lines" ref=${list} onScroll=${onScroll} hidden=${logs.length === 0}>
      ${logs.map(
        (line) => html`<li key=${line.id} class=${`log-line log-${line.level}`}>
          <time datetime=${line.at}>${clock(line.at)}</time>
          <span class="level">${line.level}</span>
          <span class="message">${line.message}</span>
        </li>`,
      )}
    </ol>
  </div>`;
}
