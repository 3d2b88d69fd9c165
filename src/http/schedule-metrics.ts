import type { ScheduleCounters } from "../schedules/counters.ts";
import type { ScheduleRecord } from "../store/index.ts";
import { header, type MetricSource, sample } from "./metrics.ts";

/**
 * Fires, overlap skips and misfires per schedule, counted in memory since this process started
 * (a restart begins again at zero, which Prometheus' rate() and increase() allow for). Every
 * schedule in the database has its series, zero included; a deleted schedule's series go.
 */
export function scheduleMetrics(
  schedules: readonly ScheduleRecord[],
  counters: ScheduleCounters,
): MetricSource {
  return {
    metricLines() {
      const rows = schedules.map((schedule) => ({
        labels: { schedule: schedule.id, name: schedule.taskName },
        counts: counters.get(schedule.id),
      }));
      return [
        ...header(
          "kiln_schedule_fires_total",
          "counter",
          "Tasks created by each schedule (fire times and triggers) since this process started.",
        ),
        ...rows.map((row) => sample("kiln_schedule_fires_total", row.labels, row.counts.fires)),
        ...header(
          "kiln_schedule_skips_total",
          "counter",
          'Fire times not fired because the previous task was still live (overlap "skip") since this process started.',
        ),
        ...rows.map((row) => sample("kiln_schedule_skips_total", row.labels, row.counts.skips)),
        ...header(
          "kiln_schedule_misfires_total",
          "counter",
          "Fire times missed while kiln was down, since this process started: dropped by the misfire policy, or caught_up (fired late).",
        ),
        ...rows.flatMap((row) => [
          sample(
            "kiln_schedule_misfires_total",
            { ...row.labels, outcome: "dropped" },
            row.counts.misfiresDropped,
          ),
          sample(
            "kiln_schedule_misfires_total",
            { ...row.labels, outcome: "caught_up" },
            row.counts.misfiresCaughtUp,
          ),
        ]),
      ];
    },
  };
}
