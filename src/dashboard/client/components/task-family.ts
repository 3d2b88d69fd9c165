import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.ts";
import { taskHref } from "../hooks.ts";
import { useLiveEvents, useReconnect } from "../live.ts";
import type { TaskDetailJson, TaskJson, TaskStatus } from "../types.ts";
import { ProgressBar } from "./progress-bar.ts";
import { StatusBadge } from "./status-badge.ts";

/** The tree is read again at most this often while its children change. */
const REFRESH_MS = 500;

type Tree = Pick<TaskDetailJson, "children" | "waitingFor">;

const ORDER: TaskStatus[] = ["RUNNING", "PENDING", "PAUSED", "FINISHED", "FAILED", "STOPPED"];

/**
 * The task's place in its tree: a link to the task that spawned it, and the children it spawned
 * with how many have ended (the tree's progress), each linked with its status. Read from
 * `GET /tasks/:id` and again, at most every half second, when one of its children changes.
 */
export function TaskFamily({ task }: { task: TaskJson }) {
  const id = task.id;
  const [tree, setTree] = useState<Tree | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = () => {
    api.task(id).then(
      (fresh) => setTree({ children: fresh.children, waitingFor: fresh.waitingFor }),
      () => undefined,
    );
  };
  const refreshSoon = () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      load();
    }, REFRESH_MS);
  };

  useEffect(() => {
    setTree(null);
    load();
    return () => {
      if (timer.current !== undefined) clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [id]);
  useReconnect(load);
  useLiveEvents((event) => {
    if (event.type !== "transition") return;
    const changed = event.data.task;
    // A child changed, or this task began or ended a wait (it may have spawned meanwhile).
    if (changed.parentId === id || changed.id === id) refreshSoon();
  });

  const children = tree?.children;
  if (task.parentId === null && (!children || children.total === 0)) return null;
  const total = children?.total ?? 0;
  const ended = children?.ended ?? 0;
  const counts = children?.counts ?? {};
  const shown = children?.items ?? [];
  const percent = total === 0 ? null : Math.round((ended / total) * 1000) / 10;
  const waiting = task.awaiting === "children" ? (tree?.waitingFor.length ?? 0) : 0;
  return html`<section class="panel family" aria-label="Parent and children">
    <h3>Parent and children</h3>
    ${
      task.parentId !== null &&
      html`<p class="family-parent">Spawned by <a href=${taskHref(task.parentId)} class="parent-link"><code>${task.parentId}</code></a></p>`
    }
    ${
      total > 0 &&
      html`<div class="family-progress" aria-label="Children ended">
          <span class="family-count">${ended} of ${total} ${total === 1 ? "child" : "children"} ended</span>
          <${ProgressBar}
            progress=${{ done: ended, total, percent, message: null }}
            status=${ended === total ? "FINISHED" : "RUNNING"}
          />
          <span class="family-counts muted">
            ${ORDER.filter((status) => (counts[status] ?? 0) > 0)
              .map((status) => `${counts[status]} ${status.toLowerCase()}`)
              .join(", ")}
          </span>
        </div>
        ${waiting > 0 && html`<p class="muted">Waiting (waitFor) for ${waiting} of them to end.</p>`}
        <ul class="family-children" aria-label="Children">
          ${shown.map(
            (child) => html`<li key=${child.id}>
              <${StatusBadge} task=${{ status: child.status, requestedAction: null }} />
              <a href=${taskHref(child.id)}><code>${child.id}</code></a>
              <span class="muted">${child.name}</span>
            </li>`,
          )}
        </ul>
        ${total > shown.length && html`<p class="muted">and ${total - shown.length} more</p>`}`
    }
  </section>`;
}
