import type { Static } from "@sinclair/typebox";
import { t } from "elysia";
import { BULK_ACTIONS, MAX_BULK_TASKS } from "../../engine/index.ts";
import { TASK_ID_EXAMPLE } from "../examples.ts";
import { literals, RequestedActionSchema, TaskStatusSchema } from "../schemas.ts";

const BulkActionSchema = literals(BULK_ACTIONS, { description: "What to do to each task" });

const Reason = t.Optional(
  t.String({ maxLength: 1000, description: "Recorded in each task's history (not for delete)" }),
);

export const BulkByIds = t.Object(
  {
    action: BulkActionSchema,
    ids: t.Array(t.String({ minLength: 1, maxLength: 200 }), {
      minItems: 1,
      maxItems: MAX_BULK_TASKS,
      description: `The tasks, by their whole ids (at most ${MAX_BULK_TASKS}; a repeated id counts once)`,
    }),
    reason: Reason,
  },
  { additionalProperties: false, title: "By ids" },
);

export const BulkFilterSchema = t.Object(
  {
    status: t.Optional(TaskStatusSchema),
    name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    tag: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  },
  {
    additionalProperties: false,
    description:
      "Tasks that match every field given. Without a status, the statuses the action applies to: " +
      "pause PENDING and RUNNING, resume PAUSED, stop PENDING, RUNNING and PAUSED, delete FINISHED, FAILED and STOPPED, restart any",
  },
);

export const BulkByFilter = t.Object(
  {
    action: BulkActionSchema,
    filter: BulkFilterSchema,
    cursor: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 200,
        description: "nextCursor of the previous call: go on with the tasks after those it acted on",
      }),
    ),
    reason: Reason,
  },
  { additionalProperties: false, title: "By filter" },
);

export const BulkBody = t.Union([BulkByIds, BulkByFilter], {
  description: `Exactly one of ids and filter. At most ${MAX_BULK_TASKS} tasks per call, newest first for a filter`,
  examples: [
    { action: "restart", filter: { status: "FAILED", name: "countdown" }, reason: "the mirror is back" },
    { action: "stop", ids: [TASK_ID_EXAMPLE] },
  ],
});

export type BulkBodyJson = Static<typeof BulkBody>;

const Done = t.Object({
  id: t.String(),
  ok: t.Literal(true),
  status: t.Optional(TaskStatusSchema),
  requestedAction: t.Optional(
    t.Union([RequestedActionSchema, t.Null()], {
      description:
        "Set when the running task acts on the request at its next checkpoint (a single call's 202)",
    }),
  ),
});

const Refused = t.Object({
  id: t.String(),
  ok: t.Literal(false),
  error: t.Object({
    code: t.String({
      description: "As the single-task call would answer: illegal_transition, task_not_found, …",
    }),
    message: t.String(),
    httpStatus: t.Integer({ description: "The status the single-task call would answer with" }),
  }),
});

export const BulkResultSchema = t.Object(
  {
    action: BulkActionSchema,
    results: t.Array(t.Union([Done, Refused]), { description: "One per task, in the order acted on" }),
    succeeded: t.Integer(),
    failed: t.Integer(),
    truncated: t.Boolean({ description: `The filter matched more than ${MAX_BULK_TASKS} tasks` }),
    nextCursor: t.Union([t.String(), t.Null()], { description: "With truncated: pass it as cursor" }),
  },
  {
    examples: [
      {
        action: "pause",
        results: [
          { id: TASK_ID_EXAMPLE, ok: true, status: "RUNNING", requestedAction: "pause" },
          {
            id: "0197a3c2-5e1f-7b2b-8d11-0f4e2a9c3b51",
            ok: false,
            error: {
              code: "illegal_transition",
              message: "cannot pause a FINISHED task: it has ended",
              httpStatus: 409,
            },
          },
        ],
        succeeded: 1,
        failed: 1,
        truncated: false,
        nextCursor: null,
      },
    ],
  },
);
