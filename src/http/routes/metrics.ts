import { Elysia, t } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import { DurationHistogram, type MetricSource, renderMetrics } from "../metrics.ts";
import { scheduleMetrics } from "../schedule-metrics.ts";

/** GET /metrics in Prometheus' text format. The histogram counts from when this app was built. */
export function metricsRoutes(manager: TaskManager, sources: readonly MetricSource[] = []) {
  const durations = new DurationHistogram();
  let unsubscribe: (() => void) | undefined = manager.subscribe(durations.observeEvent);
  return new Elysia({ tags: ["probes"] })
    .decorate("kiln", manager)
    .onStart(() => {
      unsubscribe ??= manager.subscribe(durations.observeEvent);
    })
    .onStop(() => {
      unsubscribe?.();
      unsubscribe = undefined;
    })
    .get(
      "/metrics",
      async ({ kiln, set }) => {
        set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
        const schedules = scheduleMetrics(await kiln.schedules.list(), kiln.schedules.counters);
        return renderMetrics({
          tasksByStatusAndName: await kiln.countByStatusAndName(),
          taskNames: kiln.taskTypes().map((task) => task.name),
          stats: kiln.stats(),
          durations,
          sources: [schedules, ...sources],
        });
      },
      {
        response: { 200: t.String({ description: "Prometheus text exposition format 0.0.4" }) },
        detail: { summary: "Prometheus metrics" },
      },
    );
}
