import type { ManagerEvent, ManagerStats } from "../engine/index.ts";
import { FINAL_STATUSES, TASK_STATUSES, type TaskStatus } from "../task/index.ts";
import { workerStates } from "./presenters.ts";

/** Upper bounds (seconds) of the task duration histogram's buckets. */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

const ENDED: ReadonlySet<string> = new Set(FINAL_STATUSES);

interface Series {
  labels: Record<string, string>;
  counts: number[];
  sum: number;
  count: number;
}

/** Durations (endTime − startTime) of tasks that ended, per task name and final status. */
export class DurationHistogram {
  readonly #series = new Map<string, Series>();

  /** Feed it every manager event; it keeps the transitions into a final status. */
  observeEvent = (event: ManagerEvent): void => {
    if (event.type !== "transition" || !ENDED.has(event.to) || event.from === event.to) return;
    const { startTime, endTime, taskName } = event.task;
    if (startTime === null || endTime === null || endTime < startTime) return;
    this.observe({ name: taskName, status: event.to }, (endTime - startTime) / 1000);
  };

  observe(labels: Record<string, string>, seconds: number): void {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    for (const [i, bound] of DURATION_BUCKETS.entries()) {
      if (seconds <= bound) series.counts[i] = (series.counts[i] ?? 0) + 1;
    }
    series.sum += seconds;
    series.count += 1;
  }

  render(metric: string): string[] {
    const lines: string[] = [];
    for (const series of this.#series.values()) {
      for (const [i, bound] of DURATION_BUCKETS.entries()) {
        lines.push(
          sample(`${metric}_bucket`, { ...series.labels, le: String(bound) }, series.counts[i] ?? 0),
        );
      }
      lines.push(sample(`${metric}_bucket`, { ...series.labels, le: "+Inf" }, series.count));
      lines.push(sample(`${metric}_sum`, series.labels, series.sum));
      lines.push(sample(`${metric}_count`, series.labels, series.count));
    }
    return lines;
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** One sample line of Prometheus' text format. */
export function sample(metric: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([key, label]) => `${key}="${escapeLabel(label)}"`);
  return `${metric}${pairs.length ? `{${pairs.join(",")}}` : ""} ${value}`;
}

export function header(metric: string, type: "counter" | "gauge" | "histogram", help: string): string[] {
  return [`# HELP ${metric} ${help}`, `# TYPE ${metric} ${type}`];
}

/** Something that adds its own series to `/metrics` (webhook deliveries, …). */
export interface MetricSource {
  /** Complete lines of Prometheus' text format, `# HELP` and `# TYPE` included. */
  metricLines(): string[];
}

export interface MetricsSnapshot {
  /** Counts per status and task name, as the store has them (absent pairs are zero). */
  tasksByStatusAndName: Array<{ status: TaskStatus; name: string; count: number }>;
  /** Registered task names: each gets a sample for every status, zero included. */
  taskNames: readonly string[];
  stats: ManagerStats;
  durations: DurationHistogram;
  sources?: readonly MetricSource[];
}

/** The whole exposition, in Prometheus' text format (version 0.0.4). */
/**
 * Every (status, name) pair of a registered name is present, zero or not, so rates and alerts
 * see a series from the start; names only found in the database are added as they are.
 */
function taskSamples(counts: MetricsSnapshot["tasksByStatusAndName"], names: readonly string[]): string[] {
  const byKey = new Map(counts.map(({ status, name, count }) => [`${status}\u0000${name}`, count]));
  const allNames = [...new Set([...names, ...counts.map((row) => row.name)])].sort();
  return allNames.flatMap((name) =>
    TASK_STATUSES.map((status) =>
      sample("kiln_tasks", { status, name }, byKey.get(`${status}\u0000${name}`) ?? 0),
    ),
  );
}

export function renderMetrics({
  tasksByStatusAndName,
  taskNames,
  stats,
  durations,
  sources = [],
}: MetricsSnapshot): string {
  const workers = workerStates(stats);
  const lines = [
    ...header("kiln_tasks", "gauge", "Tasks in the database by status and task name."),
    ...taskSamples(tasksByStatusAndName, taskNames),
    ...header(
      "kiln_workers",
      "gauge",
      "Workers (threads and task processes) by state: busy running a task, idle, parked holding a paused task.",
    ),
    sample("kiln_workers", { state: "busy" }, workers.busy),
    sample("kiln_workers", { state: "idle" }, workers.idle),
    sample("kiln_workers", { state: "parked" }, workers.parked),
    ...header("kiln_queue_depth", "gauge", "Tasks queued for a slot or for their run time."),
    sample("kiln_queue_depth", {}, stats.queued),
    ...header("kiln_running_tasks", "gauge", "Tasks running now."),
    sample("kiln_running_tasks", {}, stats.running),
    ...header("kiln_concurrency", "gauge", "Tasks allowed to run at once."),
    sample("kiln_concurrency", {}, stats.concurrency),
    ...header(
      "kiln_task_duration_seconds",
      "histogram",
      "Time from first start to end of tasks that ended since this process started.",
    ),
    ...durations.render("kiln_task_duration_seconds"),
    ...sources.flatMap((source) => source.metricLines()),
  ];
  return `${lines.join("\n")}\n`;
}
