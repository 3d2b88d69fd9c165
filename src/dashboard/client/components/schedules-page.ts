import { html } from "htm/preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, type NewScheduleBody } from "../api.ts";
import { taskHref } from "../hooks.ts";
import { scheduleWords } from "../schedule-words.ts";
import {
  collectParams,
  errorsByField,
  type FormSpec,
  type FormValues,
  formFromSchema,
  initialValues,
  issuesOf,
} from "../schema-form.ts";
import type { ScheduleDetailJson, TaskJson, TaskTypeJson } from "../types.ts";
import { SchemaField } from "./schema-field.ts";

const shortTime = (iso: string) => iso.slice(0, 19).replace("T", " ");

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The params form of a task name: generated from its schema, or one JSON field when it cannot be. */
const specOf = (types: TaskTypeJson[], name: string): FormSpec =>
  formFromSchema(types.find((type) => type.name === name)?.params);

function NewScheduleForm({ types, onCreated }: { types: TaskTypeJson[]; onCreated: () => void }) {
  const [name, setName] = useState(types[0]?.name ?? "");
  const [kind, setKind] = useState<"cron" | "every">("cron");
  const [cron, setCron] = useState("0 3 * * *");
  const [everyMs, setEveryMs] = useState("60000");
  const [timezone, setTimezone] = useState("");
  const spec = useMemo(() => specOf(types, name), [types, name]);
  const [values, setValues] = useState<FormValues>(() => initialValues(spec));
  // Keyed by params field; "" holds the message for the form as a whole.
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);

  const choose = (next: string) => {
    setName(next);
    // Another task name has other params: its fields start empty, without the old errors.
    setValues(initialValues(specOf(types, next)));
    setErrors({});
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const body: NewScheduleBody = { name };
    if (kind === "cron") {
      body.cron = cron.trim();
      if (timezone.trim()) body.timezone = timezone.trim();
    } else {
      const ms = Number(everyMs);
      if (!Number.isInteger(ms))
        return setErrors({ "": "every (ms) must be a whole number of milliseconds" });
      body.everyMs = ms;
    }
    const collected = collectParams(spec, values);
    if (Object.keys(collected.errors).length > 0) return setErrors(collected.errors);
    if (collected.params !== undefined) body.params = collected.params;
    setSending(true);
    setErrors({});
    try {
      await api.createSchedule(body);
      onCreated();
    } catch (caught) {
      if (caught instanceof ApiError) {
        // The server's sentence on top; each params issue it lists also next to its field.
        const byField =
          caught.status === 422 ? errorsByField(issuesOf(caught.details), caught.code, spec) : {};
        setErrors({ ...byField, "": byField[""] ?? `${caught.message} (${caught.code})` });
      } else {
        setErrors({ "": message(caught) });
      }
    } finally {
      setSending(false);
    }
  };

  const input = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return html`<form class="panel new-schedule" noValidate onSubmit=${submit} aria-label="New schedule">
    <header class="panel-head"><h2>New schedule</h2></header>
    ${errors[""] && html`<p class="error" role="alert">${errors[""]}</p>`}
    <div class="form-field">
      <label for="schedule-name">Task</label>
      <select id="schedule-name" value=${name} onChange=${(e: Event) => choose(input(e))}>
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
    <fieldset class="schedule-params">
      <legend>Parameters</legend>
      ${spec.fields.length === 0 && html`<p class="muted">This task takes no parameters.</p>`}
      ${spec.fields.map(
        (field) => html`<${SchemaField}
          key=${`${name}/${field.key}`}
          field=${field}
          value=${values[field.key] ?? ""}
          error=${errors[field.key]}
          onValue=${(value: string | boolean) => setValues((current) => ({ ...current, [field.key]: value }))}
        />`,
      )}
    </fieldset>
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
