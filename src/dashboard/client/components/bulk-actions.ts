import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import {
  type BulkPlan,
  deleteEndedPlan,
  outcomeText,
  retryFailedPlan,
  selectionPlan,
  stopRunningPlan,
} from "../bulk-plans.ts";
import { live } from "../live.ts";
import type { Filters } from "../task-page.ts";
import type { BulkAction, BulkResult } from "../types.ts";
import { ConfirmDialog } from "./confirm-dialog.ts";

const SELECTION_ACTIONS: ReadonlyArray<[BulkAction, string]> = [
  ["pause", "Pause"],
  ["resume", "Resume"],
  ["stop", "Stop"],
  ["restart", "Restart"],
  ["delete", "Delete"],
];

export interface BulkActionsProps {
  filters: Filters;
  selected: string[];
  onClearSelection: () => void;
}

interface Outcome {
  text: string;
  /** The same filter, after the tasks this call acted on: set when more matched than one call takes. */
  next: BulkPlan | undefined;
}

/** The plan that goes on after a truncated answer, or undefined. */
function nextPlan(plan: BulkPlan, result: BulkResult): BulkPlan | undefined {
  if (!result.truncated || result.nextCursor === null || !("filter" in plan.body)) return undefined;
  return { ...plan, body: { ...plan.body, cursor: result.nextCursor } };
}

/**
 * Bulk actions: on the tasks the filters match (retry the FAILED, stop the RUNNING, delete the
 * ended), or on the rows selected. Each asks for confirmation first, then says what happened.
 */
export function BulkActions({ filters, selected, onClearSelection }: BulkActionsProps) {
  const [plan, setPlan] = useState<BulkPlan | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const deleteEnded = deleteEndedPlan(filters);

  const run = async (chosen: BulkPlan) => {
    setBusy(true);
    setError(null);
    try {
      const result = await api.bulk(chosen.body);
      if (result.action === "delete") {
        for (const item of result.results) if (item.ok) live.deleted(item.id);
      }
      setOutcome({ text: outcomeText(result), next: nextPlan(chosen, result) });
      if ("ids" in chosen.body) onClearSelection();
    } catch (caught) {
      setOutcome(null);
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
      setPlan(null);
    }
  };

  const ask = (chosen: BulkPlan) => {
    setOutcome(null);
    setError(null);
    setPlan(chosen);
  };

  return html`<div class="bulk-bar" role="toolbar" aria-label="Bulk actions">
    ${
      selected.length > 0
        ? html`<span class="selection-count">${selected.length} selected</span>
            ${SELECTION_ACTIONS.map(
              ([action, label]) =>
                html`<button
                  type="button"
                  class=${`btn btn-${action}`}
                  data-bulk=${action}
                  disabled=${busy}
                  onClick=${() => ask(selectionPlan(action, selected))}
                >
                  ${label}
                </button>`,
            )}
            <button type="button" class="btn" onClick=${onClearSelection}>Clear selection</button>`
        : html`<span class="muted">Select rows to act on them, or act on what the filters match:</span>`
    }
    <span class="bulk-filter-actions">
      <button type="button" class="btn" data-bulk="retry-failed" disabled=${busy} onClick=${() => ask(retryFailedPlan(filters))}>
        Retry all FAILED
      </button>
      <button type="button" class="btn btn-stop" data-bulk="stop-running" disabled=${busy} onClick=${() => ask(stopRunningPlan(filters))}>
        Stop all running
      </button>
      <button
        type="button"
        class="btn btn-delete"
        data-bulk="delete-ended"
        disabled=${busy || !deleteEnded}
        title=${deleteEnded ? "Delete the ended tasks the filters match" : "No ended task matches a live status"}
        onClick=${() => deleteEnded && ask(deleteEnded)}
      >
        Delete ended
      </button>
    </span>
    ${
      outcome &&
      html`<p class="bulk-outcome" role="status">
        ${outcome.text}
        ${outcome.next && html` <button type="button" class="btn" onClick=${() => outcome.next && run(outcome.next)}>Go on</button>`}
      </p>`
    }
    ${error && html`<p class="action-error" role="alert">${error}</p>`}
    ${
      plan &&
      html`<${ConfirmDialog}
        plan=${plan}
        busy=${busy}
        onConfirm=${() => run(plan)}
        onCancel=${() => {
          if (!busy) setPlan(null);
        }}
      />`
    }
  </div>`;
}
