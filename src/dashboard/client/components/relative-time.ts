import { html } from "htm/preact";
import { formatExact, formatRelative } from "../format.ts";

/** "3 min ago", with the exact time on hover; "—" for none. */
export function RelativeTime({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime=${iso} title=${formatExact(iso)}>${formatRelative(iso, now)}</time>`;
}
