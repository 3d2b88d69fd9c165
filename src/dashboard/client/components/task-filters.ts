import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { MIN_ID_PREFIX } from "../../../engine/id-prefix.ts";
import { TASK_STATUSES } from "../../../task/status.ts";
import { ApiError, api } from "../api.ts";
import { taskHref } from "../hooks.ts";
import type { Filters } from "../task-page.ts";
import type { TaskStatus } from "../types.ts";

const STATUSES: readonly TaskStatus[] = TASK_STATUSES;
const TYPING_MS = 300;

export interface TaskFiltersProps {
  filters: Filters;
  names: string[];
  onChange: (filters: Filters) => void;
}

/** Why a prefix opened nothing, in words. */
function notFound(wanted: string, error: unknown): string {
  if (!(error instanceof ApiError)) return String(error);
  if (error.status === 404) {
    return wanted.length < MIN_ID_PREFIX
      ? `No task has the id ${wanted}; a prefix needs at least ${MIN_ID_PREFIX} characters.`
      : `No task has an id that starts with ${wanted}.`;
  }
  if (error.status === 409) {
    const details = error.details as { matches?: unknown; atLeast?: unknown } | undefined;
    const count = typeof details?.matches === "number" ? details.matches : undefined;
    const many =
      count === undefined ? "several" : details?.atLeast === true ? `more than ${count - 1}` : String(count);
    return `${many} tasks have an id that starts with ${wanted}: type more of it.`;
  }
  return error.message;
}

/** Opens a task by its id, or by a prefix of it that no other task's id starts with. */
function FindById() {
  const [id, setId] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const find = async (event: Event) => {
    event.preventDefault();
    // A prefix copied from the table may bring the ellipsis along.
    const wanted = id.trim().replace(/…$/, "");
    if (!wanted) return;
    setMessage(null);
    try {
      const task = await api.task(wanted);
      location.hash = taskHref(task.id);
    } catch (error) {
      setMessage(notFound(wanted, error));
    }
  };
  return html`<form class="find" role="search" onSubmit=${find}>
    <label for="find-id">Task id</label>
    <input
      id="find-id"
      type="search"
      placeholder="the id or its start"
      title=${`A task's whole id, or its first ${MIN_ID_PREFIX} or more characters`}
      value=${id}
      onInput=${(event: Event) => setId((event.currentTarget as HTMLInputElement).value)}
    />
    <button type="submit" class="btn">Open</button>
    ${message && html`<span class="field-error" role="alert">${message}</span>`}
  </form>`;
}

/** Status, name and tag filters (text applies once typing pauses), and the search by id. */
export function TaskFilters({ filters, names, onChange }: TaskFiltersProps) {
  const [name, setName] = useState(filters.name);
  const [tag, setTag] = useState(filters.tag);

  useEffect(() => {
    if (name.trim() === filters.name && tag.trim() === filters.tag) return;
    const timer = setTimeout(() => onChange({ ...filters, name: name.trim(), tag: tag.trim() }), TYPING_MS);
    return () => clearTimeout(timer);
  }, [name, tag, filters, onChange]);

  const value = (event: Event) => (event.currentTarget as HTMLInputElement | HTMLSelectElement).value;

  return html`<div class="filters">
    <div class="field-inline">
      <label for="filter-status">Status</label>
      <select
        id="filter-status"
        value=${filters.status}
        onChange=${(event: Event) => onChange({ ...filters, status: value(event) as TaskStatus | "" })}
      >
        <option value="">any</option>
        ${STATUSES.map((status) => html`<option value=${status}>${status}</option>`)}
      </select>
    </div>
    <div class="field-inline">
      <label for="filter-name">Name</label>
      <input
        id="filter-name"
        list="task-names"
        placeholder="any"
        value=${name}
        onInput=${(event: Event) => setName(value(event))}
      />
      <datalist id="task-names">${names.map((option) => html`<option value=${option} />`)}</datalist>
    </div>
    <div class="field-inline">
      <label for="filter-tag">Tag</label>
      <input id="filter-tag" placeholder="any" value=${tag} onInput=${(event: Event) => setTag(value(event))} />
    </div>
    <${FindById} />
  </div>`;
}
