import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api.ts";
import { taskHref } from "../hooks.ts";
import type { Filters } from "../task-page.ts";
import type { TaskStatus } from "../types.ts";

const STATUSES: readonly TaskStatus[] = ["PENDING", "RUNNING", "PAUSED", "FINISHED", "FAILED", "STOPPED"];
const TYPING_MS = 300;

export interface TaskFiltersProps {
  filters: Filters;
  names: string[];
  onChange: (filters: Filters) => void;
}

/** Opens a task by its exact id. */
function FindById() {
  const [id, setId] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const find = async (event: Event) => {
    event.preventDefault();
    const wanted = id.trim();
    if (!wanted) return;
    setMessage(null);
    try {
      await api.task(wanted);
      location.hash = taskHref(wanted);
    } catch (error) {
      setMessage(
        error instanceof ApiError && error.status === 404 ? `No task has the id ${wanted}.` : String(error),
      );
    }
  };
  return html`<form class="find" role="search" onSubmit=${find}>
    <label for="find-id">Task id</label>
    <input
      id="find-id"
      type="search"
      placeholder="019…"
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
