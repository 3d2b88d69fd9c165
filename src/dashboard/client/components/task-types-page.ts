import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { useNow } from "../hooks.ts";
import type { TaskTypeListItem } from "../types.ts";
import { RelativeTime } from "./relative-time.ts";

/** How often the list is read again: another client may pause or resume a name meanwhile. */
export const TASK_TYPES_POLL_MS = 5_000;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One task name: its pause (who, since when, whether its runs paused too) and the buttons. */
function TaskTypeRow({
  type,
  now,
  onChanged,
}: {
  type: TaskTypeListItem;
  now: number;
  onChanged: (said: string) => void;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<string>) => {
    setBusy(true);
    setError("");
    try {
      onChanged(await action());
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
    }
  };
  const pause = (running: "keep" | "pause") =>
    act(async () => {
      const answer = await api.pauseTaskType(type.name, running);
      const asked =
        running === "pause"
          ? `; ${answer.runsAskedToPause} running task${answer.runsAskedToPause === 1 ? "" : "s"} asked to pause`
          : "";
      return `Paused "${type.name}": no new task of it starts until it is resumed${asked}.`;
    });
  const resume = () =>
    act(async () => {
      const answer = await api.resumeTaskType(type.name);
      return answer.wasPaused ? `Resumed "${type.name}".` : `"${type.name}" was not paused.`;
    });
  const { paused } = type;
  return html`<tr data-task-type=${type.name}>
    <td><strong>${type.name}</strong>${type.description && html`<div class="muted">${type.description}</div>`}</td>
    <td>${type.options.concurrency ?? "-"}</td>
    <td class="task-type-state">
      ${
        paused
          ? html`<span class="status status-paused">paused</span>
              <div class="muted">
                by ${paused.pausedBy ?? "anonymous"}, <${RelativeTime} iso=${paused.pausedAt} now=${now} />
                ${paused.pauseRunning ? " · running tasks paused too" : ""}
              </div>`
          : html`<span class="muted">running normally</span>`
      }
    </td>
    <td class="task-type-actions">
      ${
        paused
          ? html`<button type="button" class="btn" disabled=${busy} onClick=${resume}>Resume</button>`
          : html`<button type="button" class="btn" disabled=${busy} onClick=${() => pause("keep")}
                title="New tasks of this name wait PENDING; running ones go on">Pause</button>
              <button type="button" class="btn" disabled=${busy} onClick=${() => pause("pause")}
                title="Running tasks of this name pause at their next checkpoint too">Pause with running</button>`
      }
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </td>
  </tr>`;
}

/** `#/task-types`: every task name, whether it is paused, and pause / resume for each. */
export function TaskTypesPage() {
  const [types, setTypes] = useState<TaskTypeListItem[] | null>(null);
  const [error, setError] = useState("");
  const [said, setSaid] = useState("");
  const now = useNow(1_000, true);

  const load = useCallback(async () => {
    try {
      setTypes((await api.taskTypeList()).items);
      setError("");
    } catch (caught) {
      setError(message(caught));
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), TASK_TYPES_POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const changed = (text: string) => {
    setSaid(text);
    void load();
  };

  return html`<section class="task-types" aria-label="Task types">
    <header class="nodes-head">
      <h1>Task types ${types && html`<span class="muted">(${types.length})</span>`}</h1>
      <span class="muted">
        A paused name starts no new task (they wait PENDING, saying why) until it is resumed.
      </span>
    </header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${said && html`<p class="bulk-outcome" role="status">${said}</p>`}
    ${
      types === null
        ? !error && html`<p class="muted">Loading task types…</p>`
        : html`<div class="panel"><table class="tasks task-types-table">
            <thead><tr><th>Name</th><th>Concurrency</th><th>State</th><th>Actions</th></tr></thead>
            <tbody>
              ${types.map((type) => html`<${TaskTypeRow} key=${type.name} type=${type} now=${now} onChanged=${changed} />`)}
            </tbody>
          </table></div>`
    }
  </section>`;
}
