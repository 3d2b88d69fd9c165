import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import type { BulkPlan } from "../bulk-plans.ts";

export interface ConfirmDialogProps {
  plan: BulkPlan;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * A modal dialog (the browser's own <dialog>, so focus stays in it and Escape cancels) that
 * says what a bulk action will do before it is sent.
 */
export function ConfirmDialog({ plan, busy, onConfirm, onCancel }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  const destructive = plan.body.action === "delete" || plan.body.action === "stop";
  return html`<dialog ref=${dialog} class="confirm" aria-labelledby="confirm-title" onClose=${onCancel}>
    <h2 id="confirm-title">${plan.title}</h2>
    <p>${plan.description}</p>
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onCancel} disabled=${busy}>Cancel</button>
      <button
        type="button"
        class=${`btn ${destructive ? "btn-danger" : "btn-primary"}`}
        data-confirm="true"
        onClick=${onConfirm}
        disabled=${busy}
        aria-busy=${busy}
      >
        ${busy ? "Working…" : plan.confirm}
      </button>
    </div>
  </dialog>`;
}
