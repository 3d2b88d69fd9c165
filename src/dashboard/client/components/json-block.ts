import { html } from "htm/preact";
import { formatJson } from "../format.ts";

/** A JSON value as indented text (never as markup). */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return html`<pre class="json" aria-label=${label}>${formatJson(value)}</pre>`;
}
