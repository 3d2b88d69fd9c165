import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { formatDuration, taskDuration } from "../format.ts";
import { taskHref, useNow } from "../hooks.ts";
import { useLiveEvents, useReconnect } from "../live.ts";
import { groupByNode } from "../node-groups.ts";
import type { NodeJson, TaskJson } from "../types.ts";
import { ProgressBar } from "./progress-bar.ts";
import { RelativeTime } from "./relative-time.ts";

/** How often the node list is read again: heartbeats and node membership are not in the stream. */
export const NODES_POLL_MS = 3_000;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Snapshot {
  nodes: NodeJson[];
  /** When this page received them: heartbeat ages grow from there on this page's clock. */
  at: number;
}

function RunningTasks({ tasks, now }: { tasks: TaskJson[]; now: number }) {
  if (tasks.length === 0) return html`<p class="muted node-idle">No task running.</p>`;
  return html`<ul class="node-tasks">
    ${tasks.map(
      (task) => html`<li data-task-id=${task.id}>
        <a href=${taskHref(task.id)} class="mono">${task.id.slice(0, 18)}</a>
        <span class="node-task-name">${task.name}</span>
        <${ProgressBar} progress=${task.progress} status=${task.status} />
        <span class="muted">${taskDuration(task, now)}</span>
      </li>`,
    )}
  </ul>`;
}

function NodeCard({
  node,
  tasks,
  age,
  now,
}: {
  node: NodeJson;
  tasks: TaskJson[];
  age: number;
  now: number;
}) {
  return html`<article class="panel node-card" data-node-id=${node.id} aria-label=${`Node ${node.name}`}>
    <header class="panel-head">
      <h2 class="node-title">
        ${node.name}
        ${node.leader && html`<span class="leader-mark" title="Runs the cluster's upkeep">leader</span>`}
        ${node.status === "stopping" && html`<span class="node-stopping">stopping</span>`}
      </h2>
      <span class="node-load" title="Runs holding a slot / concurrency">${node.running} / ${node.concurrency} running</span>
    </header>
    <dl class="facts node-facts">
      <div><dt>Id</dt><dd class="mono">${node.id}</dd></div>
      <div><dt>Host</dt><dd>${node.host} · pid ${node.pid}</dd></div>
      <div><dt>Started</dt><dd><${RelativeTime} iso=${node.startedAt} now=${now} /></dd></div>
      <div><dt>Heartbeat</dt><dd class="heartbeat-age">${formatDuration(age)} ago</dd></div>
    </dl>
    <${RunningTasks} tasks=${tasks} now=${now} />
  </article>`;
}

/**
 * `#/nodes`: each node serving the database with its heartbeat, load and RUNNING tasks. The
 * node list is polled; the tasks are read with it and kept current by the event stream between.
 */
export function NodesPage() {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [running, setRunning] = useState<Map<string, TaskJson>>(new Map());
  const [error, setError] = useState("");
  const now = useNow(1_000, true);

  const load = useCallback(async () => {
    try {
      const [{ items: nodes }, { items: tasks }] = await Promise.all([api.nodes(), api.runningTasks()]);
      setSnapshot({ nodes, at: Date.now() });
      setRunning(new Map(tasks.map((task) => [task.id, task])));
      setError("");
    } catch (caught) {
      setError(message(caught));
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), NODES_POLL_MS);
    return () => clearInterval(timer);
  }, [load]);
  useReconnect(() => void load());

  useLiveEvents((event) => {
    if (event.type === "transition" || event.type === "request") {
      const { task } = event.data;
      setRunning((current) => {
        if (task.status !== "RUNNING" && !current.has(task.id)) return current;
        const next = new Map(current);
        if (task.status === "RUNNING") next.set(task.id, task);
        else next.delete(task.id);
        return next;
      });
    } else if (event.type === "progress") {
      const { taskId, progress } = event.data;
      setRunning((current) => {
        const task = current.get(taskId);
        if (!task) return current;
        return new Map(current).set(taskId, { ...task, progress });
      });
    }
  });

  if (snapshot === null) {
    return html`<section class="nodes" aria-label="Nodes">
      ${error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="muted">Loading nodes…</p>`}
    </section>`;
  }
  const { groups, elsewhere } = groupByNode(snapshot.nodes, [...running.values()]);
  const elapsed = Math.max(0, now - snapshot.at);
  return html`<section class="nodes" aria-label="Nodes">
    <header class="nodes-head">
      <h1>Nodes <span class="muted">(${snapshot.nodes.length})</span></h1>
      <span class="muted">refreshed every ${NODES_POLL_MS / 1_000} s</span>
    </header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${groups.map(
      ({ node, tasks }) =>
        html`<${NodeCard} key=${node.id} node=${node} tasks=${tasks} age=${node.heartbeatAgeMs + elapsed} now=${now} />`,
    )}
    ${
      elsewhere.length > 0 &&
      html`<article class="panel node-card" aria-label="Running on a node not listed">
        <header class="panel-head"><h2>On a node not listed</h2></header>
        <${RunningTasks} tasks=${elsewhere} now=${now} />
      </article>`
    }
  </section>`;
}
