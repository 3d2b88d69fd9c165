import { html } from "htm/preact";
import { formatTime, taskDuration } from "../format.ts";
import { taskHref } from "../hooks.ts";
import type { TaskJson } from "../types.ts";
import { ProgressBar } from "./progress-bar.ts";
import { StatusBadge } from "./status-badge.ts";
import { TaskActions } from "./task-actions.ts";

export interface TaskTableProps {
  tasks: TaskJson[];
  now: number;
  loading: boolean;
  onTask: (task: TaskJson) => void;
}

/** UUIDv7 ids start with the time, so tasks created together share a prefix: show the end. */
const shortId = (id: string) => (id.length > 13 ? `…${id.slice(-12)}` : id);

function TaskRow({ task, now, onTask }: { task: TaskJson } & Omit<TaskTableProps, "tasks" | "loading">) {
  return html`<tr data-task-id=${task.id}>
    <td class="mono"><a href=${taskHref(task.id)} title=${`Open task ${task.id}`}>${shortId(task.id)}</a></td>
    <td class="name">
      ${task.name}
      ${task.tags.map((tag) => html`<span class="tag">${tag}</span>`)}
    </td>
    <td><${StatusBadge} task=${task} /></td>
    <td class="progress-col"><${ProgressBar} progress=${task.progress} status=${task.status} /></td>
    <td class="num">${task.attempt}</td>
    <td class="time">${formatTime(task.createdAt)}</td>
    <td class="time">${formatTime(task.startTime)}</td>
    <td class="time">${formatTime(task.endTime)}</td>
    <td class="num">${taskDuration(task, now)}</td>
    <td><${TaskActions} task=${task} onTask=${onTask} /></td>
  </tr>`;
}

export function TaskTable({ tasks, now, loading, onTask }: TaskTableProps) {
  return html`<div class="table-wrap">
    <table class=${`tasks${loading ? " loading" : ""}`} aria-busy=${loading}>
      <caption class="visually-hidden">Tasks, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Id</th>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col">Progress</th>
          <th scope="col">Attempt</th>
          <th scope="col">Created</th>
          <th scope="col">Started</th>
          <th scope="col">Ended</th>
          <th scope="col">Duration</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${tasks.map((task) => html`<${TaskRow} key=${task.id} task=${task} now=${now} onTask=${onTask} />`)}
        ${
          tasks.length === 0 &&
          !loading &&
          html`<tr>
            <td colspan="10" class="empty">No tasks here yet.</td>
          </tr>`
        }
      </tbody>
    </table>
  </div>`;
}
