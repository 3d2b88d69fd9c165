import type { ScheduleDetailJson, ScheduleJson, ScheduleListItemJson } from "../../http/schedule-schemas.ts";
import { block, duration, jsonValue, shortTime, table } from "./format.ts";

/** The cron expression as written, or "every 30.0s" for an interval. */
export function expression(schedule: Pick<ScheduleJson, "cron" | "everyMs">): string {
  if (schedule.cron !== null) return schedule.cron;
  return schedule.everyMs === null ? "-" : `every ${duration(schedule.everyMs)}`;
}

/** "2025-06-01 03:00:00 OK": the last fire time and its task's status, when known. */
function lastRun(schedule: ScheduleJson, status: string | null | undefined): string {
  if (schedule.lastRunAt === null) return "-";
  return `${shortTime(schedule.lastRunAt)} ${status ?? "-"}`;
}

/** `kiln schedules ls`: one row per schedule, its last run with its task's status. */
export function scheduleTable(items: ScheduleListItemJson[]): string {
  const rows = items.map((schedule) => [
    schedule.id,
    schedule.name,
    expression(schedule),
    schedule.cron === null ? "-" : (schedule.timezone ?? "UTC"),
    schedule.paused ? "-" : shortTime(schedule.nextRunAt),
    lastRun(schedule, schedule.lastTaskStatus),
    schedule.paused ? "yes" : "no",
  ]);
  const headers = ["ID", "TASK", "EXPRESSION", "TIMEZONE", "NEXT RUN (UTC)", "LAST RUN (UTC)", "PAUSED"];
  return table(headers, rows);
}

function fireOutcome(fire: ScheduleDetailJson["fires"][number]): string {
  if (fire.taskId === null) return `skipped${fire.skipReason ? ` (${fire.skipReason})` : ""}`;
  return fire.waitsFor === null ? fire.taskId : `${fire.taskId} (waits for ${fire.waitsFor})`;
}

/** `kiln schedules show`: the schedule's fields, its next five fire times and its latest fires. */
export function describeSchedule(detail: ScheduleDetailJson): string {
  const { schedule } = detail;
  const entries: [string, string][] = [
    ["id", schedule.id],
    ["task", schedule.name],
    ["expression", expression(schedule)],
  ];
  if (schedule.cron !== null) entries.push(["timezone", schedule.timezone ?? "UTC"]);
  entries.push(
    ["paused", schedule.paused ? "yes" : "no"],
    [
      "misfire",
      schedule.backfillMs === null
        ? schedule.misfire
        : `${schedule.misfire} within ${duration(schedule.backfillMs)}`,
    ],
    ["overlap", schedule.overlap],
    ["priority", String(schedule.priority)],
    ["tags", schedule.tags.length > 0 ? schedule.tags.join(", ") : "-"],
    ["params", jsonValue(schedule.params)],
    ["source", schedule.source],
    ["last run", schedule.lastRunAt ?? "-"],
  );
  if (detail.lastTask !== null) {
    entries.push(["last task", `${detail.lastTask.id} ${detail.lastTask.status ?? "(deleted)"}`]);
  }
  entries.push(["next runs", detail.nextRuns.length > 0 ? detail.nextRuns.join("\n") : "-"]);
  const fires =
    detail.fires.length === 0
      ? "no fires yet"
      : table(
          ["FIRE TIME (UTC)", "TASK"],
          detail.fires.map((fire) => [shortTime(fire.fireTime), fireOutcome(fire)]),
        );
  return `${block(entries)}\n\nlatest fires:\n${fires}`;
}
