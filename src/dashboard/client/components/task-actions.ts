import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { canDelete, offeredActions } from "../legal.ts";
import { live } from "../live.ts";
import type { ControlAction, TaskJson } from "../types.ts";

const LABELS: Record<ControlAction, string> = {
  pause: "Pause",
  resume: "Resume",
  stop: "Stop",
  restart: "Restart",
};

const CONFIRM_MS = 4_000;

export interface TaskActionsProps {
  task: TaskJson;
  /** The task as an action's answer left it (shown until the event stream says more). */
  onTask: (task: TaskJson) => void;
  /** After this page deleted the task (every view also hears of it through `live`). */
  onDeleted?: (id: string) => void;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The buttons for what the task's status allows. A pause or stop of a running task is
 * answered 202 and then acknowledged by the task: the badge says "pausing…" meanwhile, and
 * the event stream brings the new status. Delete asks for a second click.
 */
export function TaskActions({ task, onTask, onDeleted }: TaskActionsProps) {
  const [busy, setBusy] = useState<ControlAction | "delete" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!confirming) return;
    const timer = setTimeout(() => setConfirming(false), CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [confirming]);

  const control = async (action: ControlAction) => {
    setBusy(action);
    setError(null);
    const seen = live.seqOf(task.id);
    try {
      const answer = await api.control(task.id, action);
      // An event that came in meanwhile is newer than this answer.
      if (live.seqOf(task.id) === seen) onTask(answer.task);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    setBusy("delete");
    setError(null);
    try {
      await api.remove(task.id);
      live.deleted(task.id);
      onDeleted?.(task.id);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(null);
    }
  };

  return html`<div class="actions">
    ${offeredActions(task).map(
      (action) =>
        html`<button
          type="button"
          class=${`btn btn-${action}`}
          data-action=${action}
          disabled=${busy !== null}
          aria-busy=${busy === action}
          title=${`${LABELS[action]} task ${task.id}`}
          onClick=${() => control(action)}
        >
          ${busy === action ? `${LABELS[action]}…` : LABELS[action]}
        </button>`,
    )}
    ${
      canDelete(task) &&
      html`<button
        type="button"
        class=${`btn btn-delete${confirming ? " btn-confirm" : ""}`}
        data-action="delete"
        disabled=${busy !== null}
        title=${`Delete task ${task.id} with its history and logs`}
        onClick=${remove}
      >
        ${confirming ? "Confirm delete" : "Delete"}
      </button>`
    }
    ${error && html`<span class="action-error" role="alert">${error}</span>`}
  </div>`;
}
