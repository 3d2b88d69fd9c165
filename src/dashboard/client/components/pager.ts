import { html } from "htm/preact";

export interface PagerProps {
  page: number;
  hasNewer: boolean;
  hasOlder: boolean;
  limit: number;
  onNewest: () => void;
  onNewer: () => void;
  onOlder: () => void;
  onLimit: (limit: number) => void;
}

const SIZES = [25, 50, 100, 200];

/** Keyset paging: newer / older pages by cursor, never by offset, so deep pages stay fast. */
export function Pager(props: PagerProps) {
  return html`<nav class="pager" aria-label="Pages of tasks">
    <button type="button" class="btn" disabled=${!props.hasNewer} onClick=${props.onNewest}>Newest</button>
    <button type="button" class="btn" disabled=${!props.hasNewer} onClick=${props.onNewer}>← Newer</button>
    <span class="page-number" aria-live="polite">Page ${props.page}</span>
    <button type="button" class="btn" disabled=${!props.hasOlder} onClick=${props.onOlder}>Older →</button>
    <label for="page-size">Per page</label>
    <select
      id="page-size"
      value=${String(props.limit)}
      onChange=${(event: Event) => props.onLimit(Number((event.currentTarget as HTMLSelectElement).value))}
    >
      ${SIZES.map((size) => html`<option value=${String(size)}>${size}</option>`)}
    </select>
  </nav>`;
}
