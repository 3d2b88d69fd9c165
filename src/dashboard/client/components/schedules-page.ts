import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, api, type NewScheduleBody } from "../api.ts";
import { taskHref } from "../hooks.ts";
import { scheduleWords } from "../schedule-words.ts";
import type { ScheduleDetailJson, TaskJson, TaskTypeJson } from "../types.ts";

const shortTime = (iso: string) => iso.slice(0, 19).replace("T", " ");

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function NewScheduleForm({ types, onCreated }: { types: TaskTypeJson[]; onCreated: () => void }) {
  const [name, setName] = useState(types[0]?.name ?? "");
  const [kind, setKind] = useState<"cron" | "every">("cron");
  const [cron, setCron] = useState("0 3 * * *");
  const [everyMs, setEveryMs] = useState("60000");
  const [timezone, setTimezone] = useState("");
  const [params, setParams] = useState("");
  const [error, setError] = useState("");
  const [sending, setSending] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const body: NewScheduleBody = { name };
    if (kind === "cron") {
      body.cron = cron.trim();
      if (timezone.trim()) body.timezone = timezone.trim();
    } else {
      const ms = Number(everyMs);
      if (!Number.isInteger(ms)) return setError("every (ms) must be a whole number of milliseconds");
      body.everyMs = ms;
    }
    if (params.trim()) {
      try {
        body.params = JSON.parse(params) as unknown;
      } catch (caught) {
        return setError(`params are not valid JSON: ${message(caught)}`);
      }
    }
    setSending(true);
    setError("");
    try {
      await api.createSchedule(body);
      onCreated();
    } catch (caught) {
      setError(caught instanceof ApiError ? `${caught.message} (${caught.code})` : message(caught));
    } finally {
      setSending(false);
    }
  };

  const input = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return html`<form class="panel new-schedule" noValidate onSubmit=${submit} aria-label="New schedule">
    <header class="panel-head"><h2>New schedule</h2></header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="form-field">
      <label for="schedule-name">Task</label>
      <select id="schedule-name" value=${name} onChange=${(e: Event) => setName(input(e))}>
        ${types.map((type) => html`<option value=${type.name}>${type.name}</option>`)}
      </select>
    </div>
    <div class="form-field">
      <label for="schedule-kind">Timing</label>
      <select id="schedule-kind" value=${kind} onChange=${(e: Event) => setKind(input(e) as "cron" | "every")}>
        <option value="cron">cron expression</option>
        <option value="every">interval</option>
      </select>
    </div>
    ${
      kind === "cron"
        ? html`<div class="form-field">
            <label for="schedule-cron">Cron (5 fields, or 6 with seconds first)</label>
            <input id="schedule-cron" value=${cron} onInput=${(e: Event) => setCron(input(e))} />
          </div>
          <div class="form-field">
            <label for="schedule-timezone">Time zone (default UTC)</label>
            <input id="schedule-timezone" placeholder="Europe/Berlin" value=${timezone} onInput=${(e: Event) => setTimezone(input(e))} />
          </div>`
        : html`<div class="form-field">
            <label for="schedule-every">Every (ms, at least 1000)</label>
            <input id="schedule-every" inputmode="numeric" value=${everyMs} onInput=${(e: Event) => setEveryMs(input(e))} />
          </div>`
    }
    <div class="form-field">
      <label for="schedule-params">Params (JSON)</label>
      <textarea id="schedule-params" rows="3" placeholder="{}" value=${params} onInput=${(e: Event) => setParams(input(e))}></textarea>
    </div>
    <button type="submit" class="btn btn-primary" disabled=${sending}>Create schedule</button>
  </form>`;
}

function ScheduleRow({
  detail,
  onChanged,
}: {
  detail: ScheduleDetailJson;
  onChanged: (task?: TaskJson) => void;
}) {
  const { schedule } = detail;
  const [error, setError] = useState("");
  const act = async (action: "pause" | "resume" | "trigger") => {
    setError("");
    try {
      if (action === "trigger") onChanged(await api.triggerSchedule(schedule.id));
      else {
        await api.scheduleAction(schedule.id, action);
        onChanged();
      }
    } catch (caught) {
      setError(message(caught));
    }
  };
  const lastRuns = detail.fires.slice(0, 3);
  return html`<tr data-schedule-id=${schedule.id}>
    <td><code>${schedule.id}</code></td>
    <td>${schedule.name}</td>
    <td class="schedule-words">${scheduleWords(schedule)}</td>
    <td>${schedule.cron === null ? "-" : (schedule.timezone ?? "UTC")}</td>
    <td class="next-runs">${
      schedule.paused
        ? html`<span class="muted">paused</span>`
        : detail.nextRuns.slice(0, 3).map((iso) => html`<div>${shortTime(iso)}</div>`)
    }</td>
    <td class="last-runs">
      ${lastRuns.length === 0 && html`<span class="muted">none yet</span>`}
      ${lastRuns.map(
        (fire, index) => html`<div>
          ${shortTime(fire.fireTime)}
          ${
            fire.taskId === null
              ? html` <span class="muted">skipped</span>`
              : html` <a href=${taskHref(fire.taskId)}>${
                  index === 0 && detail.lastTask?.id === fire.taskId
                    ? (detail.lastTask.status ?? "deleted")
                    : "task"
                }</a>`
          }
        </div>`,
      )}
    </td>
    <td class="schedule-actions">
      ${
        schedule.paused
          ? html`<button type="button" class="btn" onClick=${() => act("resume")}>Resume</button>`
          : html`<button type="button" class="btn" onClick=${() => act("pause")}>Pause</button>`
      }
      <button type="button" class="btn" onClick=${() => act("trigger")}>Trigger</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </td>
  </tr>`;
}

/** `#/schedules`: every schedule with its timing in words, next and last runs, and its actions. */
export function SchedulesPage({ types }: { types: TaskTypeJson[] }) {
  const [details, setDetails] = useState<ScheduleDetailJson[] | null>(null);
  const [error, setError] = useState("");
  const [triggered, setTriggered] = useState<TaskJson | null>(null);

  const load = useCallback(async () => {
    try {
      const { items } = await api.schedules();
      setDetails(await Promise.all(items.map((schedule) => api.schedule(schedule.id))));
      setError("");
    } catch (caught) {
      setError(message(caught));
    }
  }, []);

  useEffect(() => {
    void load();
    // Next and last runs move on by themselves; a light refresh keeps them current.
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
  }, [load]);

  const changed = (task?: TaskJson) => {
    if (task) setTriggered(task);
    void load();
  };

  return html`<section class="schedules" aria-label="Schedules">
    <${NewScheduleForm} types=${types} onCreated=${() => void load()} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      triggered &&
      html`<p class="triggered" role="status">Triggered: task <a href=${taskHref(triggered.id)}>${triggered.id}</a> (${triggered.name})</p>`
    }
    ${details === null && html`<p class="muted">Loading schedules…</p>`}
    ${details !== null && details.length === 0 && html`<p class="muted">No schedules yet.</p>`}
    ${
      details !== null &&
      details.length > 0 &&
      html`<div class="table-wrap"><table class="tasks schedule-table">
        <thead>
          <tr><th>ID</th><th>Task</th><th>When</th><th>Time zone</th><th>Next runs (UTC)</th><th>Last runs (UTC)</th><th></th></tr>
        </thead>
        <tbody>
          ${details.map((detail) => html`<${ScheduleRow} key=${detail.schedule.id} detail=${detail} onChanged=${changed} />`)}
        </tbody>
      </table></div>`
    }
  </section>`;
}
