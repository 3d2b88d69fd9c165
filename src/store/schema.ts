import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { EVENT_ACTIONS, LOG_LEVELS, REQUESTED_ACTIONS, TASK_STATUSES } from "../task/index.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../task/schedule.ts";
import { CHECKS, SCHEDULE_SOURCES } from "./schema-lists.ts";

/** One row per task: its name, status, times and result, plus what pause, resume and retries need. */
export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    taskName: text("task_name").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    /** Why the task is in its status (a stop reason, "interrupted", …); null when nothing to say. */
    statusReason: text("status_reason"),
    params: text("params", { mode: "json" }).$type<unknown>(),
    result: text("result", { mode: "json" }).$type<unknown>(),
    error: text("error", { mode: "json" }).$type<unknown>(),
    progress: text("progress", { mode: "json" }).$type<unknown>(),
    checkpoint: text("checkpoint", { mode: "json" }).$type<unknown>(),
    attempt: integer("attempt").notNull().default(1),
    /** Automatic retries used since the task was created or last restarted. */
    retries: integer("retries").notNull().default(0),
    priority: integer("priority").notNull().default(0),
    runAt: integer("run_at"),
    requestedAction: text("requested_action", { enum: REQUESTED_ACTIONS }),
    idempotencyKey: text("idempotency_key"),
    tags: text("tags", { mode: "json" }).$type<string[]>(),
    startTime: integer("start_time"),
    endTime: integer("end_time"),
    lastRunTime: integer("last_run_time"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * The W3C `traceparent` and the `x-request-id` of the request that created the task (a child
     * task: derived from its parent's). Identifiers, not secrets: stored in plaintext, unlike params.
     */
    traceparent: text("traceparent"),
    requestId: text("request_id"),
    /** The task that spawned this one; null for a task created through the API or the manager. */
    parentId: text("parent_id"),
    /** Time spent running, summed over runs, in ms: paused and queued time excluded. */
    activeMs: integer("active_ms").notNull().default(0),
    /** The schedule that created the task, and the fire time it was created for; null otherwise. */
    scheduleId: text("schedule_id"),
    scheduleFireTime: integer("schedule_fire_time"),
    /** The node running the task while it is RUNNING; one SQLite file has one node, so null here. */
    nodeId: text("node_id"),
    /** Bumped by each claim of the task (the fencing token on PostgreSQL); kept level on SQLite. */
    leaseEpoch: integer("lease_epoch").notNull().default(0),
    /**
     * The keys of the task's rate limit and per-key concurrency, from its class's key functions
     * when it was created; null where the class declares no such limit.
     */
    rateKey: text("rate_key"),
    concurrencyKey: text("concurrency_key"),
    /** What the task does when a `dependsOn` dependency does not finish; null without dependencies. */
    dependencyPolicy: text("dependency_policy"),
    /**
     * While PENDING, what it waits for before it may start: "dependencies" (its `dependsOn`) or
     * "children" (its `waitFor`); null when nothing holds it back. No dispatch takes such a task.
     */
    awaiting: text("awaiting"),
  },
  (table) => [
    index("tasks_status_id").on(table.status, table.id),
    index("tasks_name_id").on(table.taskName, table.id),
    /**
     * The rate-limited tasks of a name by their last run: what seeds a rate window at start-up
     * (`recentRateStarts`). Partial, so a task of a name without a rate limit costs it nothing.
     */
    index("tasks_rate_last_run")
      .on(table.taskName, table.lastRunTime)
      .where(sql`${table.rateKey} IS NOT NULL`),
    // Partial: most tasks have no parent and no wait, and cost these indexes nothing.
    index("tasks_parent_id").on(table.parentId).where(sql`${table.parentId} IS NOT NULL`),
    index("tasks_awaiting").on(table.id).where(sql`${table.awaiting} IS NOT NULL`),
    // For endedAfter / endedBefore: a window of end times is read from the index alone, its ids
    // sorted there, and only the page's rows fetched. Partial: a task enters it when it ends.
    index("tasks_end_time").on(table.endTime, table.id).where(sql`${table.endTime} IS NOT NULL`),
    uniqueIndex("tasks_idempotency_key")
      .on(table.idempotencyKey)
      .where(sql`${table.idempotencyKey} IS NOT NULL`),
    check(CHECKS.taskStatus.name, sql.raw(CHECKS.taskStatus.sql)),
    check(CHECKS.requestedAction.name, sql.raw(CHECKS.requestedAction.sql)),
  ],
);

/**
 * What a task waits for: the tasks named in its `dependsOn` (kind "depends") and the children of
 * its latest `waitFor` (kind "wait"). No foreign key on `depends_on_id`: a dependency may be
 * deleted once it has ended, and its dependent then reads it as gone.
 */
export const taskDependencies = sqliteTable(
  "task_dependencies",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    dependsOnId: text("depends_on_id").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.taskId, table.kind, table.dependsOnId] }),
    index("task_dependencies_depends_on").on(table.dependsOnId),
  ],
);

/** Append-only history: every transition and every control request. */
export const taskEvents = sqliteTable(
  "task_events",
  {
    id: integer("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    at: integer("at").notNull(),
    fromStatus: text("from_status", { enum: TASK_STATUSES }),
    toStatus: text("to_status", { enum: TASK_STATUSES }),
    action: text("action", { enum: EVENT_ACTIONS }).notNull(),
    reason: text("reason"),
    /** Who asked: a token's label, "anonymous", "kiln" for the engine itself, "task" for the task. */
    actor: text("actor"),
    /** Where the request came from (the client's address); null when not over HTTP. */
    source: text("source"),
  },
  (table) => [
    index("task_events_task_id").on(table.taskId, table.id),
    check(CHECKS.eventAction.name, sql.raw(CHECKS.eventAction.sql)),
  ],
);

/**
 * The searchable fields of a task's params (src/store/param-fields.ts), one row per field,
 * written with the task and deleted with it. (path, value, task_id) is the index a param filter
 * walks, newest task first; the key (task_id, path) is what a second filter and the cascade read.
 */
export const taskParams = sqliteTable(
  "task_params",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    value: text("value").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.taskId, table.path] }),
    index("task_params_path_value").on(table.path, table.value, table.taskId),
  ],
);

/**
 * Each tag of each task, a row apiece (written at create; tags do not change after): the tag
 * filter walks its index newest first instead of parsing the tags of every task (on SQLite a
 * rare tag took 170 ms, and one no task has 370 ms, at 1,000,000 tasks).
 */
export const taskTags = sqliteTable(
  "task_tags",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    tag: text("tag").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.taskId, table.tag] }),
    index("task_tags_tag").on(table.tag, table.taskId),
  ],
);

export const taskLogs = sqliteTable(
  "task_logs",
  {
    id: integer("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    at: integer("at").notNull(),
    level: text("level", { enum: LOG_LEVELS }).notNull(),
    message: text("message").notNull(),
  },
  (table) => [
    index("task_logs_task_id").on(table.taskId, table.id),
    check(CHECKS.logLevel.name, sql.raw(CHECKS.logLevel.sql)),
  ],
);

/**
 * Schedules: a cron expression or an interval, and the task each fire time creates. `next_run_at`
 * is the first fire time not yet fired (null once none is left); an interval's fire times count
 * from `created_at`.
 */
export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    taskName: text("task_name").notNull(),
    cron: text("cron"),
    everyMs: integer("every_ms"),
    timezone: text("timezone"),
    params: text("params", { mode: "json" }).$type<unknown>(),
    priority: integer("priority").notNull().default(0),
    tags: text("tags", { mode: "json" }).$type<string[]>(),
    misfire: text("misfire", { enum: MISFIRE_POLICIES }).notNull(),
    backfillMs: integer("backfill_ms"),
    overlap: text("overlap", { enum: OVERLAP_POLICIES }).notNull(),
    paused: integer("paused", { mode: "boolean" }).notNull().default(false),
    source: text("source", { enum: SCHEDULE_SOURCES }).notNull(),
    nextRunAt: integer("next_run_at"),
    lastRunAt: integer("last_run_at"),
    lastTaskId: text("last_task_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [
    index("schedules_next_run_at").on(table.nextRunAt),
    check(CHECKS.scheduleMisfire.name, sql.raw(CHECKS.scheduleMisfire.sql)),
    check(CHECKS.scheduleOverlap.name, sql.raw(CHECKS.scheduleOverlap.sql)),
    check(CHECKS.scheduleSource.name, sql.raw(CHECKS.scheduleSource.sql)),
    check(CHECKS.scheduleTiming.name, sql.raw(CHECKS.scheduleTiming.sql)),
  ],
);

/**
 * One row per fire time of a schedule: the task it created, or why none was (overlap "skip").
 * The unique (schedule, fire time) key is what makes a fire happen once: the fire is recorded
 * in the transaction that creates its task, and a second try conflicts and does nothing.
 */
export const scheduleFires = sqliteTable(
  "schedule_fires",
  {
    id: integer("id").primaryKey(),
    scheduleId: text("schedule_id")
      .notNull()
      .references(() => schedules.id, { onDelete: "cascade" }),
    fireTime: integer("fire_time").notNull(),
    taskId: text("task_id"),
    skipReason: text("skip_reason"),
    /** Overlap "queue": the task this fire's task waits for; null otherwise. */
    waitsFor: text("waits_for"),
    recordedAt: integer("recorded_at").notNull(),
  },
  (table) => [
    uniqueIndex("schedule_fires_schedule_time").on(table.scheduleId, table.fireTime),
    index("schedule_fires_waits_for").on(table.waitsFor),
    check(CHECKS.fireOutcome.name, sql.raw(CHECKS.fireOutcome.sql)),
  ],
);

/**
 * Task names paused by a client: no new task of the name starts while its row is here. Who
 * asked and when are kept for the listing; `pause_running` says whether the runs of the name
 * were asked to pause too.
 */
export const pausedTaskTypes = sqliteTable("paused_task_types", {
  taskName: text("task_name").primaryKey(),
  pausedBy: text("paused_by"),
  pausedAt: integer("paused_at").notNull(),
  pauseRunning: integer("pause_running", { mode: "boolean" }).notNull().default(false),
});
