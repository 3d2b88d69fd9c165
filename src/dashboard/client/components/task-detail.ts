import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api.ts";
import { createFollower, type Follower } from "../follow.ts";
import { taskDuration } from "../format.ts";
import { taskHref, useNow } from "../hooks.ts";
import { live, useLiveEvents, useReconnect } from "../live.ts";
import { type EventJson, eventTaskId, type LogJson, type TaskJson } from "../types.ts";
import { HistoryTimeline } from "./history-timeline.ts";
import { JsonBlock } from "./json-block.ts";
import { LogView } from "./log-view.ts";
import { ProgressBar } from "./progress-bar.ts";
import { RelativeTime } from "./relative-time.ts";
import { StatusBadge } from "./status-badge.ts";
import { TaskActions } from "./task-actions.ts";
import { TaskFamily } from "./task-family.ts";

/** The page keeps this many log lines of a task; older ones drop off the top. */
const MAX_LOG_LINES = 5_000;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function Facts({ task, now }: { task: TaskJson; now: number }) {
  const time = (iso: string | null) => html`<${RelativeTime} iso=${iso} now=${now} />`;
  const facts: Array<[string, unknown]> = [
    ["Attempt", String(task.attempt)],
    ["Priority", String(task.priority)],
    ["Tags", task.tags.length ? task.tags.join(", ") : "—"],
    ["Created", time(task.createdAt)],
    ["Started", time(task.startTime)],
    ["Ended", time(task.endTime)],
    ["Duration", taskDuration(task, now)],
    ["Run at", time(task.runAt)],
  ];
  if (task.node !== null)
    facts.push(["Node", html`<a href="#/nodes" class="task-node" title=${task.node}>${task.node}</a>`]);
  return html`<dl class="facts">
    ${facts.map(([term, value]) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`)}
    ${task.statusReason && html`<div class="fact-wide"><dt>Reason</dt><dd>${task.statusReason}</dd></div>`}
  </dl>`;
}

/**
 * A failure as people read it: the message, the stack trace as lines (not a JSON string of
 * "\n"s), and whatever else the error holds as JSON.
 */
function ErrorOutcome({ error }: { error: unknown }) {
  if (typeof error !== "object" || error === null || Array.isArray(error)) {
    return html`<${JsonBlock} value=${error} label="Error" />`;
  }
  const { name, message, stack, ...rest } = error as Record<string, unknown>;
  const title =
    typeof message === "string" ? (typeof name === "string" ? `${name}: ${message}` : message) : null;
  return html`
    ${title && html`<p class="error-message">${title}</p>`}
    ${
      typeof stack === "string" &&
      html`<h4>Stack trace</h4>
        <pre class="stack" aria-label="Stack trace">${stack}</pre>`
    }
    ${Object.keys(rest).length > 0 && html`<${JsonBlock} value=${rest} label="Error details" />`}
  `;
}

function Outcome({ task }: { task: TaskJson }) {
  if (task.error !== null && task.error !== undefined) {
    return html`<section class="panel outcome-error">
      <h3>Error</h3>
      <${ErrorOutcome} error=${task.error} />
    </section>`;
  }
  return html`<section class="panel">
    <h3>Result</h3>
    <${JsonBlock} value=${task.result} label="Result" />
  </section>`;
}

/**
 * One task: its state, actions, params and outcome, its history and its logs, all following
 * the event stream. History and logs are fetched by id after each event that says they grew.
 */
export function TaskDetail({ id }: { id: string }) {
  const [task, setTask] = useState<TaskJson | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [history, setHistory] = useState<EventJson[]>([]);
  const [logs, setLogs] = useState<{ lines: LogJson[]; dropped: number }>({ lines: [], dropped: 0 });
  const followers = useRef<{ history: Follower; logs: Follower } | null>(null);

  const loadTask = async () => {
    // Retried while events about the task arrive during the request: the answer may predate them.
    for (let tries = 0; tries < 3; tries++) {
      const seen = live.seqOf(id);
      try {
        const fresh = await api.task(id);
        // A link with a prefix of the id: the view follows the task by its whole id.
        if (fresh.id !== id) {
          location.replace(taskHref(fresh.id));
          return;
        }
        if (live.seqOf(id) === seen || tries === 2) {
          setTask(fresh);
          setProblem(null);
          return;
        }
      } catch (error) {
        setProblem(
          error instanceof ApiError && error.status === 404 ? `There is no task ${id}.` : messageOf(error),
        );
        return;
      }
    }
  };

  useEffect(() => {
    setTask(null);
    setProblem(null);
    setHistory([]);
    setLogs({ lines: [], dropped: 0 });
    const onError = (error: unknown) => setProblem(messageOf(error));
    const current = {
      history: createFollower(
        (after) => api.history(id, after),
        (items) => setHistory((shown) => [...shown, ...items]),
        onError,
      ),
      logs: createFollower(
        (after) => api.logs(id, after),
        (items) =>
          setLogs((shown) => {
            const lines = [...shown.lines, ...items];
            const extra = Math.max(0, lines.length - MAX_LOG_LINES);
            return { lines: extra ? lines.slice(extra) : lines, dropped: shown.dropped + extra };
          }),
        onError,
      ),
    };
    followers.current = current;
    void loadTask();
    current.history.poke();
    current.logs.poke();
    return () => {
      current.history.stop();
      current.logs.stop();
    };
  }, [id]);

  useReconnect(() => {
    void loadTask();
    followers.current?.history.poke();
    followers.current?.logs.poke();
  });

  useLiveEvents((event) => {
    if (eventTaskId(event) !== id) return;
    switch (event.type) {
      case "transition":
      case "request":
        setTask(event.data.task);
        followers.current?.history.poke();
        break;
      case "progress": {
        const { progress } = event.data;
        setTask((shown) => shown && { ...shown, progress });
        break;
      }
      case "log":
        followers.current?.logs.poke();
        break;
    }
  });

  // A render every second while the duration grows, else every 15 s for the relative times.
  useNow(task !== null && task.startTime !== null && task.endTime === null ? 1_000 : 15_000, true);
  const now = Date.now();

  if (!task) {
    return html`<section class="detail" aria-label="Task">
      <a href="#/" class="back">← All tasks</a>
      <p class=${problem ? "error" : "muted"} role=${problem ? "alert" : undefined}>${problem ?? "Loading…"}</p>
    </section>`;
  }

  return html`<section class="detail" aria-label=${`Task ${task.id}`} data-task-id=${task.id}>
    <a href="#/" class="back">← All tasks</a>
    <header class="detail-head">
      <h2>${task.name}</h2>
      <${StatusBadge} task=${task} />
      <code class="task-id">${task.id}</code>
    </header>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    <${TaskActions}
      task=${task}
      onTask=${setTask}
      onDeleted=${() => {
        location.hash = "#/";
      }}
    />
    <div class="detail-progress">
      <h3>Progress</h3>
      <${ProgressBar} progress=${task.progress} status=${task.status} />
    </div>
    <${Facts} task=${task} now=${now} />
    <${TaskFamily} task=${task} />
    <div class="detail-grid">
      <section class="panel">
        <h3>Parameters</h3>
        <${JsonBlock} value=${task.params} label="Parameters" />
      </section>
      <${Outcome} task=${task} />
    </div>
    <div class="detail-grid">
      <section class="panel history">
        <h3>History</h3>
        <${HistoryTimeline} events=${history} />
      </section>
      <section class="panel logs">
        <h3>Logs</h3>
        <${LogView} logs=${logs.lines} dropped=${logs.dropped} />
      </section>
    </div>
  </section>`;
}
