/**
 * The bodies of `POST /schedules` and `PATCH /schedules/:id`, as TypeBox schemas for the routes.
 *
 * The schemas hold each field's type and range; what one field means for another (exactly one of
 * cron and everyMs, timezone with cron only, backfillMs with misfire "all" only) and whether the
 * expression and the time zone are valid is checked by `checkScheduleSpec` (spec.ts) on the body
 * (for a PATCH, on the schedule with the patch applied: patch.ts), whose errors the route turns
 * into a 422 in the same `{ field, message }` form.
 */
import { t } from "elysia";
import { MAX_PRIORITY, MAX_TAG_LENGTH, MAX_TAGS, MIN_PRIORITY } from "../engine/creation/create-options.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../task/schedule.ts";
import { MAX_BACKFILL_MS, MAX_CRON_LENGTH, MIN_EVERY_MS } from "./spec.ts";

const Cron = t.String({
  minLength: 1,
  maxLength: MAX_CRON_LENGTH,
  description:
    "Cron expression: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, in the time zone",
  examples: ["0 3 * * *", "*/10 * * * * *"],
});

const EveryMs = t.Integer({
  minimum: MIN_EVERY_MS,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "Fire every this many ms, counted from the schedule's creation",
  examples: [60_000],
  error: `everyMs must be an integer of at least ${MIN_EVERY_MS} (ms)`,
});

const Timezone = t.String({
  minLength: 1,
  maxLength: 100,
  description: "IANA time zone the cron expression is read in (default UTC)",
  examples: ["Europe/Berlin"],
});

const Misfire = t.Union(
  MISFIRE_POLICIES.map((policy) => t.Literal(policy)),
  {
    description:
      "After downtime: skip (only future times), once (one catch-up run, default), all (every missed time within backfillMs)",
  },
);

const BackfillMs = t.Integer({
  minimum: 1,
  maximum: MAX_BACKFILL_MS,
  description: 'With misfire "all": how far back missed fire times are still run, in ms (at most 31 days)',
  error: `backfillMs must be an integer from 1 to ${MAX_BACKFILL_MS} (ms)`,
});

const Overlap = t.Union(
  OVERLAP_POLICIES.map((policy) => t.Literal(policy)),
  {
    description:
      "While the previous task is PENDING, RUNNING or PAUSED: allow (fire, default), skip (do not fire, recorded), queue (fire, and wait for it)",
  },
);

const Priority = t.Integer({
  minimum: MIN_PRIORITY,
  maximum: MAX_PRIORITY,
  description: "Priority of each task it creates (default 0)",
  error: "priority must be a 32-bit integer",
});

const Tags = t.Array(t.String({ minLength: 1, maxLength: MAX_TAG_LENGTH }), {
  maxItems: MAX_TAGS,
  description: "Tags of each task it creates",
});

const Params = t.Unknown({
  description: "Params of each task it creates, checked against the task's schema on save",
});

const Paused = t.Boolean({ description: "Created paused: it fires only once resumed" });

export const CreateScheduleBody = t.Object(
  {
    id: t.Optional(
      t.String({
        pattern: "^[\\w.:@-]{1,200}$",
        description: "The schedule's id (default: a new one); letters, digits and _ . : @ -",
      }),
    ),
    name: t.String({
      minLength: 1,
      maxLength: 128,
      description: "The registered task name it creates tasks of",
    }),
    cron: t.Optional(Cron),
    everyMs: t.Optional(EveryMs),
    timezone: t.Optional(Timezone),
    params: t.Optional(Params),
    priority: t.Optional(Priority),
    tags: t.Optional(Tags),
    misfire: t.Optional(Misfire),
    backfillMs: t.Optional(BackfillMs),
    overlap: t.Optional(Overlap),
    paused: t.Optional(Paused),
  },
  {
    additionalProperties: false,
    examples: [{ name: "nightly-report", cron: "0 3 * * *", timezone: "Europe/Berlin" }],
  },
);

/**
 * A PATCH changes the fields it gives. Giving cron replaces everyMs and giving everyMs replaces
 * cron (and its time zone); `timezone: null` goes back to UTC and `backfillMs: null` drops the
 * window. The task name and the id do not change.
 */
export const UpdateScheduleBody = t.Object(
  {
    cron: t.Optional(Cron),
    everyMs: t.Optional(EveryMs),
    timezone: t.Optional(t.Union([Timezone, t.Null()])),
    params: t.Optional(Params),
    priority: t.Optional(Priority),
    tags: t.Optional(Tags),
    misfire: t.Optional(Misfire),
    backfillMs: t.Optional(t.Union([BackfillMs, t.Null()])),
    overlap: t.Optional(Overlap),
    paused: t.Optional(Paused),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ cron: "30 3 * * *" }] },
);
