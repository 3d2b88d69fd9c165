import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { TASK_STATUSES } from "../../../task/status.ts";
import { api } from "../api.ts";
import { useThrottle } from "../hooks.ts";
import { useLiveEvents, useReconnect } from "../live.ts";
import type { StatsJson, TaskStatus } from "../types.ts";
import { ThroughputChart } from "./throughput-chart.ts";

const STATUSES: readonly TaskStatus[] = TASK_STATUSES;
const CHART_MINUTES = 30;
/** Counts change with transitions; this bounds how often a busy server is asked for them. */
const REFRESH_AFTER_EVENT_MS = 1_000;
/** The chart's minutes move on even when nothing happens. */
const REFRESH_IDLE_MS = 20_000;

function Card({ label, value, kind }: { label: string; value: string | number; kind?: string }) {
  return html`<div class=${`card${kind ? ` card-${kind}` : ""}`}>
    <span class="card-value">${value}</span>
    <span class="card-label">${label}</span>
  </div>`;
}

/**
 * Busy, idle and parked workers: a paused task that keeps its worker (its stack) parks it, so it
 * is counted apart from the workers running tasks, which never exceed the concurrency.
 */
export function workersCardValue(workers: StatsJson["workers"]): string {
  return `${workers.busy} / ${workers.idle} / ${workers.parked}`;
}

/** Counts by status, the last hour's outcomes, workers, queue depth and recent throughput. */
export function SummaryCards() {
  const [stats, setStats] = useState<StatsJson | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useThrottle(() => {
    api.stats(CHART_MINUTES).then(
      (fresh) => {
        setStats(fresh);
        setError(null);
      },
      (caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)),
    );
  }, REFRESH_AFTER_EVENT_MS);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, REFRESH_IDLE_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  useReconnect(refresh);
  useLiveEvents((event) => {
    if (event.type === "transition") refresh();
  });

  if (!stats) {
    return html`<section class="summary" aria-label="Summary">
      <p class=${error ? "error" : "muted"}>${error ? `Could not load the summary: ${error}` : "Loading…"}</p>
    </section>`;
  }
  return html`<section class="summary" aria-label="Summary">
    <div class="cards statuses">
      ${STATUSES.map((status) => html`<${Card} label=${status} value=${stats.tasks[status]} kind=${status.toLowerCase()} />`)}
    </div>
    <div class="cards activity">
      <${Card} label="finished, last hour" value=${stats.lastHour.finished} kind="finished" />
      <${Card} label="failed, last hour" value=${stats.lastHour.failed} kind="failed" />
      <${Card} label="workers busy / idle / parked" value=${workersCardValue(stats.workers)} />
      <${Card} label="queue depth" value=${stats.queueDepth} />
      <${ThroughputChart} buckets=${stats.throughput} />
    </div>
  </section>`;
}
