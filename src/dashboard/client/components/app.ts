import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, api, setUnauthorizedHandler } from "../api.ts";
import { useRoute } from "../hooks.ts";
import { live, useConnection } from "../live.ts";
import { storedToken, storeToken } from "../token.ts";
import type { TaskTypeJson } from "../types.ts";
import { NewTaskForm } from "./new-task-form.ts";
import { NodesPage } from "./nodes-page.ts";
import { SchedulesPage } from "./schedules-page.ts";
import { SummaryCards } from "./summary-cards.ts";
import { TaskDetail } from "./task-detail.ts";
import { TaskList } from "./task-list.ts";
import { TaskTypesPage } from "./task-types-page.ts";
import { TokenGate } from "./token-gate.ts";

type Auth =
  | { state: "checking" }
  | { state: "token"; message: string }
  | { state: "unreachable"; message: string }
  | { state: "ready"; types: TaskTypeJson[] };

const NEEDS_TOKEN = "This kiln server needs an API token. Enter it to open the dashboard.";
const REFUSED = "The server refused that token (401 Unauthorized). Check it and enter it again.";

const CONNECTION_TEXT = {
  connecting: "connecting…",
  live: "live",
  down: "reconnecting…",
  shutdown: "server shutting down · reconnecting…",
} as const;

function Connection() {
  const state = useConnection();
  return html`<span class=${`connection connection-${state}`} role="status" title="Live updates from /events">
    ${CONNECTION_TEXT[state]}
  </span>`;
}

function Dashboard({ types, onForget }: { types: TaskTypeJson[]; onForget: () => void }) {
  const route = useRoute();
  const [creating, setCreating] = useState(false);
  const openForm = () => {
    if (route.view !== "list") location.hash = "#/";
    setCreating(true);
  };
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/">kiln</a>
      <${Connection} />
      <div class="top-actions">
        <button type="button" class="btn btn-primary" onClick=${openForm} aria-expanded=${creating}>New task</button>
        <a class="btn" href="#/task-types">Task types</a>
        <a class="btn" href="#/schedules">Schedules</a>
        <a class="btn" href="#/nodes">Nodes</a>
        <a class="btn" href="swagger">API</a>
        ${storedToken() && html`<button type="button" class="btn" onClick=${onForget}>Forget token</button>`}
      </div>
    </header>
    <${SummaryCards} />
    <main>
      <div class="list-view" hidden=${route.view !== "list"}>
        ${creating && html`<${NewTaskForm} types=${types} onClose=${() => setCreating(false)} />`}
        <${TaskList} names=${types.map((type) => type.name)} />
      </div>
      ${route.view === "task" && html`<${TaskDetail} key=${route.id} id=${route.id} />`}
      ${route.view === "schedules" && html`<${SchedulesPage} types=${types} />`}
      ${route.view === "nodes" && html`<${NodesPage} />`}
      ${route.view === "task-types" && html`<${TaskTypesPage} />`}
    </main>
  </div>`;
}

/**
 * Checks whether the server wants a token (asking for it when it does), then shows the
 * dashboard and keeps the event stream open while it is shown.
 */
export function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });

  const refuse = useCallback(() => {
    live.stop();
    setAuth({ state: "token", message: storedToken() ? REFUSED : NEEDS_TOKEN });
    storeToken(null);
  }, []);

  const check = useCallback(async () => {
    setAuth({ state: "checking" });
    try {
      const { items } = await api.taskTypes();
      setAuth({ state: "ready", types: items });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return; // `refuse` has asked for a token
      setAuth({ state: "unreachable", message: error instanceof Error ? error.message : String(error) });
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(refuse);
    void check();
  }, [refuse, check]);

  const ready = auth.state === "ready";
  useEffect(() => {
    if (!ready) return;
    live.start("events", refuse);
    return () => live.stop();
  }, [ready, refuse]);

  switch (auth.state) {
    case "checking":
      return html`<main class="gate"><p class="muted">Connecting to kiln…</p></main>`;
    case "token":
      return html`<${TokenGate}
        message=${auth.message}
        onToken=${(token: string) => {
          storeToken(token);
          void check();
        }}
      />`;
    case "unreachable":
      return html`<main class="gate">
        <div class="panel">
          <p class="error" role="alert">Could not reach kiln: ${auth.message}</p>
          <button type="button" class="btn" onClick=${check}>Try again</button>
        </div>
      </main>`;
    case "ready":
      return html`<${Dashboard}
        types=${auth.types}
        onForget=${() => {
          storeToken(null);
          void check();
        }}
      />`;
  }
}
