import { Elysia, t } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import { CreateScheduleBody, UpdateScheduleBody } from "../../schedules/schemas.ts";
import type { ScheduleDetail } from "../../schedules/service.ts";
import type { ScheduleFireRecord, ScheduleRecord } from "../../store/index.ts";
import { strictObjectBody } from "../body.ts";
import { presentTask } from "../presenters.ts";
import { ScheduleDetailSchema, ScheduleIdParams, ScheduleList, ScheduleOne } from "../schedule-schemas.ts";
import { ErrorSchema, TaskSchema } from "../schemas.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function presentSchedule(schedule: ScheduleRecord) {
  return {
    id: schedule.id,
    name: schedule.taskName,
    cron: schedule.cron,
    everyMs: schedule.everyMs,
    timezone: schedule.timezone,
    params: schedule.params ?? null,
    priority: schedule.priority,
    tags: schedule.tags ?? [],
    misfire: schedule.misfire,
    backfillMs: schedule.backfillMs,
    overlap: schedule.overlap,
    paused: schedule.paused,
    source: schedule.source,
    nextRunAt: isoOrNull(schedule.nextRunAt),
    lastRunAt: isoOrNull(schedule.lastRunAt),
    lastTaskId: schedule.lastTaskId,
    createdAt: iso(schedule.createdAt),
    updatedAt: iso(schedule.updatedAt),
  };
}

function presentFire(fire: ScheduleFireRecord) {
  return {
    fireTime: iso(fire.fireTime),
    taskId: fire.taskId,
    skipReason: fire.skipReason,
    waitsFor: fire.waitsFor,
    recordedAt: iso(fire.recordedAt),
  };
}

function presentDetail(detail: ScheduleDetail) {
  const { schedule } = detail;
  return {
    schedule: presentSchedule(schedule),
    lastTask:
      schedule.lastTaskId === null ? null : { id: schedule.lastTaskId, status: detail.lastTaskStatus },
    nextRuns: detail.upcoming.map(iso),
    fires: detail.fires.map(presentFire),
  };
}

const ERRORS = { 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema };

/**
 * /schedules: cron and interval schedules at run time. A bad expression, time zone or policy
 * combination is a 422 listing every broken rule as `{ field, message }`; params are checked
 * against the task's schema when the schedule is saved; an unknown task name is a 404.
 */
export function scheduleRoutes(manager: TaskManager) {
  const schedules = manager.schedules;
  return new Elysia({ tags: ["schedules"] })
    .post(
      "/schedules",
      async ({ body, status }) => status(201, { schedule: presentSchedule(await schedules.create(body)) }),
      {
        body: CreateScheduleBody,
        transform: strictObjectBody(CreateScheduleBody),
        response: { 201: ScheduleOne, ...ERRORS },
        detail: {
          summary: "Create a schedule: a task of `name` at each fire time of `cron` or every `everyMs`",
          description:
            "Exactly one of cron (5 fields, or 6 with seconds first, read in `timezone`, default UTC) and everyMs " +
            "(at least 1000, counted from creation). misfire: what fire times missed while kiln was down become " +
            "(skip, once (default), all within backfillMs). overlap: what a fire time does while the previous task " +
            "is PENDING, RUNNING or PAUSED (allow (default), skip, queue). 409 when the id is taken.",
        },
      },
    )
    .get(
      "/schedules",
      async () => ({
        items: (await schedules.listWithLastStatus()).map(({ schedule, lastTaskStatus }) => ({
          ...presentSchedule(schedule),
          lastTaskStatus,
        })),
      }),
      {
        response: { 200: ScheduleList, 503: ErrorSchema },
        detail: {
          summary:
            "List every schedule, declared and made through the API, in id order, each with its last task's status",
        },
      },
    )
    .get("/schedules/:id", async ({ params }) => presentDetail(await schedules.detail(params.id)), {
      params: ScheduleIdParams,
      response: { 200: ScheduleDetailSchema, 404: ErrorSchema, 503: ErrorSchema },
      detail: {
        summary:
          "A schedule with its last task's id and status, its next five fire times and its latest fires",
      },
    })
    .patch(
      "/schedules/:id",
      async ({ params, body }) => ({ schedule: presentSchedule(await schedules.update(params.id, body)) }),
      {
        params: ScheduleIdParams,
        body: UpdateScheduleBody,
        transform: strictObjectBody(UpdateScheduleBody),
        response: { 200: ScheduleOne, ...ERRORS },
        detail: {
          summary: "Change a schedule's fields",
          description:
            "A change of cron, everyMs or timezone starts the schedule afresh: its next fire time is the first after now. " +
            "A declared schedule's fields are set from its class again at the next start.",
        },
      },
    )
    .delete(
      "/schedules/:id",
      async ({ params, status }) => {
        await schedules.delete(params.id);
        return status(204, undefined);
      },
      {
        params: ScheduleIdParams,
        response: { 204: t.Void(), 404: ErrorSchema, 503: ErrorSchema },
        detail: {
          summary: "Delete a schedule and its fire history (the tasks it created stay)",
          description: "A declared schedule still in its class is registered again at the next start.",
        },
      },
    )
    .post(
      "/schedules/:id/pause",
      async ({ params, status }) =>
        status(200, { schedule: presentSchedule(await schedules.pause(params.id)) }),
      {
        params: ScheduleIdParams,
        response: { 200: ScheduleOne, ...ERRORS },
        detail: { summary: "Pause a schedule: it fires no more until resumed" },
      },
    )
    .post(
      "/schedules/:id/resume",
      async ({ params, status }) =>
        status(200, { schedule: presentSchedule(await schedules.resume(params.id)) }),
      {
        params: ScheduleIdParams,
        response: { 200: ScheduleOne, ...ERRORS },
        detail: {
          summary:
            "Resume a paused schedule from now: fire times that passed while it was paused are not caught up",
        },
      },
    )
    .post(
      "/schedules/:id/trigger",
      async ({ params, status }) => status(201, { task: presentTask(await schedules.trigger(params.id)) }),
      {
        params: ScheduleIdParams,
        response: { 201: t.Object({ task: TaskSchema }), ...ERRORS },
        detail: {
          summary:
            "Fire a schedule once now, whatever its timing, pause or overlap policy; its next fire time stays",
        },
      },
    );
}
