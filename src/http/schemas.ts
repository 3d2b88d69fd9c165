import type { TLiteral, TUnion } from "@sinclair/typebox";
import { t } from "elysia";
import { LATEST_DATE_MS, MAX_PRIORITY, MIN_PRIORITY } from "../engine/index.ts";
import { LOG_LEVELS, REQUESTED_ACTIONS, TASK_STATUSES } from "../task/index.ts";
import {
  CREATE_TASK_EXAMPLE,
  ERROR_DETAILS_EXAMPLE,
  PARAMS_EXAMPLE,
  PARAMS_SCHEMA_EXAMPLE,
  RESULT_EXAMPLE,
  TASK_ERROR_EXAMPLE,
  TASK_EXAMPLE,
  TASK_ID_EXAMPLE,
} from "./examples.ts";
import { TimeFilterQuery } from "./task-search.ts";

// ── Shared pieces ────────────────────────────────────────────────────────────────────────

/** A union of string literals from one constant list, typed as precisely as the list. */
export function literals<const T extends readonly [string, ...string[]]>(
  values: T,
  options: { description?: string } = {},
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return t.Union(
    values.map((value) => t.Literal(value)),
    options,
  ) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

const IsoTime = t.String({ format: "date-time", description: "ISO 8601 time (UTC)" });
const NullableIso = t.Union([IsoTime, t.Null()]);
/** A stored time: null only for a row altered outside kiln whose time is not a date. */
const StoredIso = t.Union([IsoTime, t.Null()], {
  description: "ISO 8601 time (UTC); null if the stored value is not a date",
});

export const TaskStatusSchema = literals(TASK_STATUSES, { description: "Status of a task" });

export const RequestedActionSchema = literals(REQUESTED_ACTIONS);

export const ErrorSchema = t.Object(
  {
    error: t.Object({
      code: t.String({ description: "Stable machine-readable code, e.g. task_not_found" }),
      message: t.String(),
      details: t.Optional(t.Unknown({ examples: [ERROR_DETAILS_EXAMPLE] })),
    }),
  },
  { description: "Every error has this shape" },
);

export const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 200 }) });

// ── Tasks ────────────────────────────────────────────────────────────────────────────────

export const ProgressSchema = t.Object({
  done: t.Number(),
  total: t.Union([t.Number(), t.Null()]),
  percent: t.Union([t.Number(), t.Null()], { description: "done / total × 100, one decimal" }),
  message: t.Union([t.String(), t.Null()]),
});

export const ContextSchema = t.Object(
  {
    traceparent: t.Optional(
      t.String({
        description:
          "W3C Trace Context traceparent of the request that created the task; a spawned task keeps its parent's trace id under a new span id",
        examples: ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
      }),
    ),
    requestId: t.Optional(
      t.String({
        description: "x-request-id of the request that created the task; a spawned task keeps its parent's",
      }),
    ),
  },
  {
    description:
      "The request context a task was created with; a field is absent when the request had none, or an invalid one",
  },
);

export const TaskSchema = t.Object(
  {
    id: t.String(),
    name: t.String({ description: "The registered task name" }),
    status: TaskStatusSchema,
    statusReason: t.Union([t.String(), t.Null()]),
    params: t.Unknown({
      description: "As given at create, with the schema's defaults",
      examples: [PARAMS_EXAMPLE],
    }),
    result: t.Unknown({
      description: "What run() returned; null until FINISHED",
      examples: [RESULT_EXAMPLE],
    }),
    error: t.Unknown({
      description: "Why the task FAILED ({ name, message, stack?, retryable }); null otherwise",
      examples: [TASK_ERROR_EXAMPLE],
    }),
    progress: t.Union([ProgressSchema, t.Null()]),
    attempt: t.Integer(),
    priority: t.Integer(),
    tags: t.Array(t.String()),
    requestedAction: t.Union([RequestedActionSchema, t.Null()]),
    createdAt: StoredIso,
    startTime: NullableIso,
    endTime: NullableIso,
    lastRunTime: NullableIso,
    runAt: NullableIso,
    durationMs: t.Union([t.Integer(), t.Null()], {
      description:
        "Wall time in ms from the first start to the end (to now while the task has not ended): paused time, time queued between retries and any run in between included; null before the first start",
    }),
    activeMs: t.Integer({
      description:
        "Time in ms the task actually ran, summed over its runs (the current one included while RUNNING): paused time and time waiting to start excluded. Reset by a restart",
    }),
    parentId: t.Union([t.String(), t.Null()], {
      description: "The task that created this one with this.spawn(); null otherwise",
    }),
    context: ContextSchema,
    schedule: t.Union(
      [
        t.Object({
          id: t.String({ description: "The schedule that created the task" }),
          fireTime: NullableIso,
        }),
        t.Null(),
      ],
      { description: "The schedule and fire time the task was created for; null for any other task" },
    ),
    node: t.Union([t.String(), t.Null()], {
      description:
        "The id of the node running the task (see GET /nodes), while it is RUNNING on a PostgreSQL database; null otherwise",
    }),
    awaiting: t.Union([t.Literal("dependencies"), t.Literal("children"), t.Null()], {
      description:
        "While PENDING: what holds it back, its dependsOn (dependencies) or the children of its waitFor (children); null when nothing does",
    }),
    onDependencyFailure: t.Union([t.Literal("fail"), t.Literal("stop"), t.Literal("run"), t.Null()], {
      description: "What it does when a dependency fails or is stopped; null for a task without dependsOn",
    }),
  },
  { description: "A task", examples: [TASK_EXAMPLE] },
);

export const ChildrenSchema = t.Object(
  {
    total: t.Integer({ description: "How many tasks this one spawned" }),
    ended: t.Integer({ description: "How many of them are FINISHED, FAILED or STOPPED" }),
    counts: t.Record(t.String(), t.Integer(), { description: "Children per status" }),
    items: t.Array(t.Object({ id: t.String(), name: t.String(), status: TaskStatusSchema }), {
      description: "The first children, oldest first (at most 100)",
    }),
  },
  { description: "The tasks this one spawned, and the tree's progress" },
);

/** One task with what it waits for and what it spawned (GET /tasks/:id). */
export const TaskDetailSchema = t.Composite(
  [
    TaskSchema,
    t.Object({
      dependsOn: t.Array(t.String(), { description: "The tasks that must finish before this one starts" }),
      waitingFor: t.Array(t.String(), { description: "The children its latest this.waitFor() named" }),
      children: ChildrenSchema,
    }),
  ],
  {
    description: "A task, with what it waits for and the tasks it spawned",
    examples: [
      {
        ...TASK_EXAMPLE,
        dependsOn: [],
        waitingFor: [],
        children: { total: 0, ended: 0, counts: {}, items: [] },
      },
    ],
  },
);

export const CreateTaskBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 128, description: "A registered task name" }),
    params: t.Optional(
      t.Unknown({ description: "Checked against the task name's params schema", examples: [PARAMS_EXAMPLE] }),
    ),
    priority: t.Optional(
      t.Integer({
        minimum: MIN_PRIORITY,
        maximum: MAX_PRIORITY,
        description: "Higher runs first (default 0)",
        examples: [0],
        error: "priority must be a 32-bit integer",
      }),
    ),
    runAt: t.Optional(
      t.Union([t.String({ format: "date-time" }), t.Integer({ minimum: 0, maximum: LATEST_DATE_MS })], {
        description:
          "Do not start before this time: ISO 8601 date-time or epoch milliseconds, from 1970 to the end of year 9999",
        error:
          "runAt must be an ISO 8601 date-time string or an integer of epoch milliseconds, from 1970 to the end of year 9999",
      }),
    ),
    idempotencyKey: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 200,
        description:
          "A second create with the same key, name and params returns the first task (200); with another name or other params it is a 409",
      }),
    ),
    tags: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
    dependsOn: t.Optional(
      t.Array(t.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 1000,
        description:
          "Ids of tasks that must FINISH before this one starts; it waits PENDING until then. Each must exist (422 otherwise)",
        error: "dependsOn must be an array of at most 1000 task ids",
      }),
    ),
    onDependencyFailure: t.Optional(
      t.Union([t.Literal("fail"), t.Literal("stop"), t.Literal("run")], {
        description:
          'When a dependency fails or is stopped: "fail" this task (default), "stop" it, or "run" it anyway once all have ended',
        error: 'onDependencyFailure must be "fail", "stop" or "run"',
      }),
    ),
  },
  { additionalProperties: false, examples: [CREATE_TASK_EXAMPLE] },
);

export const ListTasksQuery = t.Object({
  status: t.Optional(TaskStatusSchema),
  name: t.Optional(t.String({ maxLength: 128 })),
  tag: t.Optional(t.String({ maxLength: 64 })),
  ...TimeFilterQuery,
  limit: t.Optional(
    t.Integer({ minimum: 1, maximum: 500, default: 50, error: "limit must be an integer from 1 to 500" }),
  ),
  cursor: t.Optional(
    t.String({ maxLength: 200, description: "nextCursor of the previous page", examples: [TASK_ID_EXAMPLE] }),
  ),
});

export const TaskPage = t.Object({
  items: t.Array(TaskSchema),
  nextCursor: t.Union([t.String(), t.Null()]),
});

// ── Control ──────────────────────────────────────────────────────────────────────────────

export const ControlBody = t.Optional(
  t.Object({ reason: t.Optional(t.String({ maxLength: 1000 })) }, { additionalProperties: false }),
);

export const ControlQuery = t.Object({
  wait: t.Optional(
    t.Integer({
      minimum: 0,
      maximum: 30_000,
      description: "Wait up to this many ms for the task to acknowledge a pending request",
      examples: [5000],
      error: "wait must be an integer of milliseconds from 0 to 30000",
    }),
  ),
});

export const ControlDone = t.Object({ task: TaskSchema }, { description: "Done at once" });

export const ControlPending = t.Object(
  { task: TaskSchema, requestedAction: RequestedActionSchema },
  { description: "Stored; the task acts on it at its next checkpoint" },
);

// ── History ──────────────────────────────────────────────────────────────────────────────

export const HistoryQuery = t.Object({
  after: t.Optional(
    t.Integer({ minimum: 0, error: "after must be a non-negative integer (the previous nextCursor)" }),
  ),
  limit: t.Optional(
    t.Integer({ minimum: 1, maximum: 500, default: 50, error: "limit must be an integer from 1 to 500" }),
  ),
});

export const EventSchema = t.Object({
  id: t.Integer(),
  at: StoredIso,
  from: t.Union([TaskStatusSchema, t.Null()]),
  to: t.Union([TaskStatusSchema, t.Null()]),
  action: t.String(),
  reason: t.Union([t.String(), t.Null()]),
  actor: t.Union([t.String(), t.Null()], {
    description:
      'Who asked: a token\'s label ("admin", "read-1", …), "anonymous" on a server without tokens, "kiln" for the engine, "task" for the task itself',
  }),
  source: t.Union([t.String(), t.Null()], {
    description: "The client address the request came from; null for changes not made over HTTP",
  }),
  context: t.Union([ContextSchema, t.Null()], {
    description: "On the create event, the request context the task was created with; null on the others",
  }),
});

export const LogSchema = t.Object({
  id: t.Integer(),
  at: StoredIso,
  level: literals(LOG_LEVELS),
  message: t.String(),
});

export const EventPage = t.Object({
  items: t.Array(EventSchema),
  nextCursor: t.Union([t.Integer(), t.Null()]),
});

export const LogPage = t.Object({
  items: t.Array(LogSchema),
  nextCursor: t.Union([t.Integer(), t.Null()]),
  context: t.Composite([ContextSchema], {
    description: "The task's request context, which every line of its log shares (it is not stored per line)",
  }),
});

// ── Task types, stream, probes ───────────────────────────────────────────────────────────

export const TaskTypeSchema = t.Object({
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  params: t.Record(t.String(), t.Unknown(), {
    description: "JSON Schema of the params",
    examples: [PARAMS_SCHEMA_EXAMPLE],
  }),
  result: t.Union([t.Record(t.String(), t.Unknown()), t.Null()], {
    description: "JSON Schema of the result, if declared",
  }),
  options: t.Object({
    retry: t.Object({ attempts: t.Integer(), backoffMs: t.Number(), maxBackoffMs: t.Number() }),
    timeoutMs: t.Union([t.Number(), t.Null()]),
    concurrency: t.Union([t.Number(), t.Null()]),
    resumable: t.Boolean(),
    isolation: t.Union([t.Literal("worker"), t.Literal("fresh"), t.Literal("process")], {
      description:
        '"worker": a pooled worker thread; "fresh": a worker thread of its own, ended after the run; "process": a child process of kiln',
    }),
    memoryLimitMb: t.Union([t.Number(), t.Null()], {
      description: "the class's own memory cap; null: the server's --task-memory-limit applies",
    }),
  }),
});

export const TaskTypePauseSchema = t.Object({
  pausedBy: t.Union([t.String(), t.Null()], { description: "who asked (the token's label)" }),
  pausedAt: t.String({ format: "date-time" }),
  pauseRunning: t.Boolean({ description: "whether the running tasks were asked to pause too" }),
});

export const TaskTypeList = t.Object({
  items: t.Array(
    t.Composite([
      TaskTypeSchema,
      t.Object({
        paused: t.Union([TaskTypePauseSchema, t.Null()], {
          description: "set while the name is paused: no new task of it starts",
        }),
      }),
    ]),
  ),
});

export const StreamQuery = t.Object({
  task: t.Optional(t.String({ minLength: 1, maxLength: 200, description: "Only this task's events" })),
});

export const HealthSchema = t.Object({ status: t.Literal("ok") });
export const ReadySchema = t.Object({ status: t.Literal("ready") });
export const NotReadySchema = t.Object({
  status: t.Literal("not_ready"),
  /** Why, in one line: starting, shutting down, or what is wrong with the database file. */
  reason: t.String(),
});
