/** Response schemas of the schedule routes (their bodies are in src/schedules/schemas.ts). */
import { type Static, t } from "elysia";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../task/schedule.ts";
import { literals, TaskStatusSchema } from "./schemas.ts";

const Iso = t.String({ format: "date-time", description: "ISO 8601 time (UTC)" });
const NullableIso = t.Union([Iso, t.Null()]);

export const ScheduleSchema = t.Object(
  {
    id: t.String(),
    name: t.String({ description: "The task name each fire creates a task of" }),
    cron: t.Union([t.String(), t.Null()]),
    everyMs: t.Union([t.Integer(), t.Null()]),
    timezone: t.Union([t.String(), t.Null()], { description: "The cron expression's IANA time zone" }),
    params: t.Unknown(),
    priority: t.Integer(),
    tags: t.Array(t.String()),
    misfire: literals(MISFIRE_POLICIES),
    backfillMs: t.Union([t.Integer(), t.Null()]),
    overlap: literals(OVERLAP_POLICIES),
    paused: t.Boolean(),
    source: t.Union([t.Literal("declared"), t.Literal("api")], {
      description:
        "declared: from a task class's static schedules (kept in step with the code at start-up); api: made through the API",
    }),
    nextRunAt: t.Union([Iso, t.Null()], { description: "The next fire time; null once none is left" }),
    lastRunAt: NullableIso,
    lastTaskId: t.Union([t.String(), t.Null()]),
    createdAt: Iso,
    updatedAt: Iso,
  },
  { description: "A schedule" },
);

export const ScheduleFireSchema = t.Object({
  fireTime: Iso,
  taskId: t.Union([t.String(), t.Null()]),
  skipReason: t.Union([t.String(), t.Null()], { description: "Why no task was created (overlap skip)" }),
  waitsFor: t.Union([t.String(), t.Null()], { description: 'Overlap "queue": the task it waited for' }),
  recordedAt: Iso,
});

export const ScheduleDetailSchema = t.Object({
  schedule: ScheduleSchema,
  lastTask: t.Union([t.Object({ id: t.String(), status: t.Union([TaskStatusSchema, t.Null()]) }), t.Null()], {
    description: "The task the latest fire created, with its status (null once it is deleted)",
  }),
  nextRuns: t.Array(Iso, { description: "The next five fire times (none while paused)" }),
  fires: t.Array(ScheduleFireSchema, { description: "The latest fires, newest first" }),
});

export const ScheduleOne = t.Object({ schedule: ScheduleSchema });
/** A schedule in the list: its fields and its last task's status, so a listing needs no request per schedule. */
export const ScheduleListItemSchema = t.Composite([
  ScheduleSchema,
  t.Object({
    lastTaskStatus: t.Union([TaskStatusSchema, t.Null()], {
      description:
        "The status of the task the latest fire created; null when there is none (or it was deleted)",
    }),
  }),
]);
export const ScheduleList = t.Object({ items: t.Array(ScheduleListItemSchema) });
export const ScheduleIdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 200 }) });

export type ScheduleJson = Static<typeof ScheduleSchema>;
export type ScheduleListItemJson = Static<typeof ScheduleListItemSchema>;
export type ScheduleFireJson = Static<typeof ScheduleFireSchema>;
export type ScheduleDetailJson = Static<typeof ScheduleDetailSchema>;
