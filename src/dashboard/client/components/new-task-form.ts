import { html } from "htm/preact";
import { useMemo, useState } from "preact/hooks";
import { ApiError, api, type CreateAnswer, type NewTaskBody } from "../api.ts";
import { localTimeToIso } from "../format.ts";
import { taskHref } from "../hooks.ts";
import {
  collectParams,
  errorsByField,
  type FormValues,
  formFromSchema,
  initialValues,
  issuesOf,
} from "../schema-form.ts";
import type { TaskTypeJson } from "../types.ts";
import { SchemaField } from "./schema-field.ts";

/** Keys of the form's own fields; params fields use their schema names, which never start with "@". */
const TAGS = "@tags";
const PRIORITY = "@priority";
const RUN_AT = "@runAt";
const KEY = "@idempotencyKey";

function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
}

interface OptionFieldProps {
  id: string;
  field: string;
  label: string;
  values: FormValues;
  errors: Record<string, string>;
  onValue: (key: string, value: string) => void;
  input: Record<string, unknown>;
  hint?: string;
}

function OptionField({ id, field, label, values, errors, onValue, input, hint }: OptionFieldProps) {
  const error = errors[field];
  return html`<div class=${`form-field${error ? " has-error" : ""}`}>
    <label for=${id}>${label}</label>
    <input
      id=${id}
      ...${input}
      value=${values[field] ?? ""}
      onInput=${(event: Event) => onValue(field, (event.currentTarget as HTMLInputElement).value)}
    />
    ${hint && html`<p class="hint">${hint}</p>`}
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </div>`;
}

function TaskOptions(props: Pick<OptionFieldProps, "values" | "errors" | "onValue">) {
  return html`<div class="form-options">
    <${OptionField} ...${props} id="new-task-tags" field=${TAGS} label="Tags" input=${{ placeholder: "comma, separated" }} />
    <${OptionField}
      ...${props}
      id="new-task-priority"
      field=${PRIORITY}
      label="Priority"
      input=${{ type: "number", step: "1", placeholder: "0" }}
    />
    <${OptionField}
      ...${props}
      id="new-task-run-at"
      field=${RUN_AT}
      label="Run at"
      input=${{ type: "datetime-local", step: "1" }}
      hint="Not before this time (yours); empty: now"
    />
    <${OptionField}
      ...${props}
      id="new-task-key"
      field=${KEY}
      label="Idempotency key"
      input=${{ placeholder: "optional", maxLength: 200 }}
      hint="A second create with the same key returns the first task"
    />
  </div>`;
}

/** The body's own fields from the form (tags, priority, run at, key), or the ones that cannot be read. */
function taskOptions(values: FormValues): { body: Partial<NewTaskBody>; errors: Record<string, string> } {
  const body: Partial<NewTaskBody> = {};
  const errors: Record<string, string> = {};
  const tags = parseTags(String(values[TAGS] ?? ""));
  if (tags.length > 0) body.tags = tags;
  const priority = String(values[PRIORITY] ?? "").trim();
  if (priority !== "") body.priority = Number(priority);
  const runAt = String(values[RUN_AT] ?? "").trim();
  if (runAt !== "") {
    const iso = localTimeToIso(runAt);
    if (iso === undefined) errors[RUN_AT] = "is not a date and time";
    else body.runAt = iso;
  }
  const key = String(values[KEY] ?? "").trim();
  if (key !== "") body.idempotencyKey = key;
  return { body, errors };
}

/**
 * A form for one task name, generated from its params schema. The server checks the params
 * against that schema; its issues are shown next to the fields they name.
 */
function TaskTypeForm({
  type,
  onCreated,
}: {
  type: TaskTypeJson;
  onCreated: (answer: CreateAnswer) => void;
}) {
  const spec = useMemo(() => formFromSchema(type.params), [type]);
  const [values, setValues] = useState<FormValues>(() => initialValues(spec));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);

  const setValue = (key: string, value: string | boolean) =>
    setValues((current) => ({ ...current, [key]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    const collected = collectParams(spec, values);
    if (Object.keys(collected.errors).length > 0) {
      setErrors(collected.errors);
      return;
    }
    const options = taskOptions(values);
    if (Object.keys(options.errors).length > 0) {
      setErrors(options.errors);
      return;
    }
    const body: NewTaskBody = { name: type.name, ...options.body };
    if (collected.params !== undefined) body.params = collected.params;
    setSending(true);
    setErrors({});
    try {
      onCreated(await api.create(body));
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 422) {
        const byField = errorsByField(issuesOf(caught.details), caught.code, spec);
        // The server's sentence on top; each issue it lists also next to its field.
        setErrors({ ...byField, "": byField[""] ?? caught.message });
      } else {
        setErrors({ "": caught instanceof Error ? caught.message : String(caught) });
      }
    } finally {
      setSending(false);
    }
  };

  return html`<form class="new-task-form" noValidate onSubmit=${submit} aria-label=${`New ${type.name} task`}>
    ${type.description && html`<p class="muted">${type.description}</p>`}
    ${errors[""] && html`<p class="error" role="alert">${errors[""]}</p>`}
    <fieldset>
      <legend>Parameters</legend>
      ${spec.fields.length === 0 && html`<p class="muted">This task takes no parameters.</p>`}
      ${spec.fields.map(
        (field) => html`<${SchemaField}
          key=${field.key}
          field=${field}
          value=${values[field.key] ?? ""}
          error=${errors[field.key]}
          onValue=${(value: string | boolean) => setValue(field.key, value)}
        />`,
      )}
    </fieldset>
    <${TaskOptions} values=${values} errors=${errors} onValue=${setValue} />
    <button type="submit" class="btn btn-primary" disabled=${sending}>
      ${sending ? "Creating…" : "Create task"}
    </button>
  </form>`;
}

/** Choose a task name, fill in its generated form, create the task. */
export function NewTaskForm({ types, onClose }: { types: TaskTypeJson[]; onClose: () => void }) {
  const [name, setName] = useState(types[0]?.name ?? "");
  const [created, setCreated] = useState<CreateAnswer | null>(null);
  const type = types.find((candidate) => candidate.name === name);

  return html`<section class="panel new-task" aria-label="New task">
    <header class="panel-head">
      <h2>New task</h2>
      <button type="button" class="btn" onClick=${onClose}>Close</button>
    </header>
    <div class="form-field">
      <label for="new-task-name">Task</label>
      <select
        id="new-task-name"
        value=${name}
        onChange=${(event: Event) => {
          setName((event.currentTarget as HTMLSelectElement).value);
          setCreated(null);
        }}
      >
        ${types.map((candidate) => html`<option value=${candidate.name}>${candidate.name}</option>`)}
      </select>
    </div>
    ${types.length === 0 && html`<p class="muted">No task names are registered on this server.</p>`}
    ${type && html`<${TaskTypeForm} key=${type.name} type=${type} onCreated=${setCreated} />`}
    ${
      created &&
      html`<p class="success" role="status">
        ${created.status === 200 ? "A task with that idempotency key exists already: " : "Created "}<a
          href=${taskHref(created.task.id)}
          >${created.task.name} ${created.task.id}</a
        >.
      </p>`
    }
  </section>`;
}
