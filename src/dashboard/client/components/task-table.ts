import { html } from "htm/preact";
import { taskDuration } from "../format.ts";
import { taskHref } from "../hooks.ts";
import { nodeName } from "../node-groups.ts";
import type { TaskJson } from "../types.ts";
import { ProgressBar } from "./progress-bar.ts";
import { RelativeTime } from "./relative-time.ts";
import { StatusBadge } from "./status-badge.ts";
import { TaskActions } from "./task-actions.ts";

export interface TaskTableProps {
  tasks: TaskJson[];
  now: number;
  loading: boolean;
  onTask: (task: TaskJson) => void;
  selected: ReadonlySet<string>;
  onSelect: (ids: string[], selected: boolean) => void;
}

/**
 * UUIDv7 ids start with the creation time to the millisecond and a sequence number: their
 * first 18 characters tell tasks apart, and "Open" takes them as a prefix. The ellipsis is
 * drawn by CSS, so copying the text copies the prefix alone.
 */
export const ID_PREFIX_LENGTH = 18;

/** Why a task is where it is: a failure's message, a user's reason, a retry's backoff. */
function reasonOf(task: TaskJson): string | null {
  if (task.status === "STOPPED" && task.statusReason === "stopped") return null;
  return task.statusReason;
}

function StatusCell({ task, now }: { task: TaskJson; now: number }) {
  const reason = reasonOf(task);
  return html`<td class="status-col">
    <${StatusBadge} task=${task} />
    ${
      task.runAt &&
      task.status === "PENDING" &&
      html`<div class="run-at">runs <${RelativeTime} iso=${task.runAt} now=${now} /></div>`
    }
    ${
      task.node !== null &&
      html`<div class="run-node">on <a href="#/nodes" class="task-node" title=${task.node}>${nodeName(task.node)}</a></div>`
    }
    ${reason && html`<div class=${`reason reason-${task.status.toLowerCase()}`} title=${reason}>${reason}</div>`}
  </td>`;
}

type RowProps = { task: TaskJson; checked: boolean } & Pick<TaskTableProps, "now" | "onTask" | "onSelect">;

function TaskRow({ task, now, onTask, checked, onSelect }: RowProps) {
  return html`<tr data-task-id=${task.id} class=${checked ? "selected" : undefined}>
    <td class="select-col">
      <input
        type="checkbox"
        checked=${checked}
        aria-label=${`Select task ${task.id}`}
        onChange=${(event: Event) => onSelect([task.id], (event.currentTarget as HTMLInputElement).checked)}
      />
    </td>
    <td class="mono id-col">
      <a href=${taskHref(task.id)} title=${`Open task ${task.id}`}
        ><span class="id-prefix">${task.id.slice(0, ID_PREFIX_LENGTH)}</span></a
      >
    </td>
    <td class="name">
      ${task.name}
      ${task.tags.map((tag) => html`<span class="tag">${tag}</span>`)}
    </td>
    <${StatusCell} task=${task} now=${now} />
    <td class="progress-col"><${ProgressBar} progress=${task.progress} status=${task.status} /></td>
    <td class="num attempt">${task.attempt}</td>
    <td class="time"><${RelativeTime} iso=${task.createdAt} now=${now} /></td>
    <td class="time"><${RelativeTime} iso=${task.startTime} now=${now} /></td>
    <td class="time"><${RelativeTime} iso=${task.endTime} now=${now} /></td>
    <td class="num">${taskDuration(task, now)}</td>
    <td><${TaskActions} task=${task} onTask=${onTask} /></td>
  </tr>`;
}

export function TaskTable({ tasks, now, loading, onTask, selected, onSelect }: TaskTableProps) {
  const all = tasks.length > 0 && tasks.every((task) => selected.has(task.id));
  const some = !all && tasks.some((task) => selected.has(task.id));
  return html`<div class="table-wrap">
    <table class=${`tasks${loading ? " loading" : ""}`} aria-busy=${loading}>
      <caption class="visually-hidden">Tasks, newest first</caption>
      <thead>
        <tr>
          <th scope="col" class="select-col">
            <input
              type="checkbox"
              aria-label="Select every task on this page"
              checked=${all}
              indeterminate=${some}
              disabled=${tasks.length === 0}
              onChange=${(event: Event) =>
                onSelect(
                  tasks.map((task) => task.id),
                  (event.currentTarget as HTMLInputElement).checked,
                )}
            />
          </th>
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
        ${tasks.map(
          (task) =>
            html`<${TaskRow}
              key=${task.id}
              task=${task}
              now=${now}
              onTask=${onTask}
              checked=${selected.has(task.id)}
              onSelect=${onSelect}
            />`,
        )}
        ${
          tasks.length === 0 &&
          !loading &&
          html`<tr>
            <td colspan="11" class="empty">No tasks here yet.</td>
          </tr>`
        }
      </tbody>
    </table>
  </div>`;
}
