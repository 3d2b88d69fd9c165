import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { EVENT_ACTIONS, LOG_LEVELS, REQUESTED_ACTIONS, TASK_STATUSES } from "../../task/index.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../../task/schedule.ts";
import { CHECKS, SCHEDULE_SOURCES } from "../schema-lists.ts";

/**
 * The PostgreSQL schema: the SQLite one (src/store/schema.ts) column for column, with native
 * types: bigint epoch milliseconds for times, identity columns for history ids, and JSON types.
 *
 * A task's values (params, result, error, progress, checkpoint) are `json`, not `jsonb`: `json`
 * keeps the text as written, so a value reads back as SQLite gives it (its keys in their order,
 * a NUL or a lone surrogate escaped in a string), where jsonb reorders keys and refuses both.
 * kiln never looks inside them in SQL but to complete a progress, and json is cheaper to write
 * (no conversion) and to read (the stored text as it is). Tags stay jsonb, for containment.
 */
const epochMs = (name: string) => bigint(name, { mode: "number" });

/**
 * Task ids compare byte by byte, as in SQLite: keyset pages and prefix ranges (`id >= $1 AND
 * id < $2`) rely on it, and a database's default collation (en_US.UTF-8, say) would order
 * them by language rules instead, skipping hyphens.
 */
const byteOrderedText = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
});

/** One row per task: its name, status, times and result, plus what pause, resume and retries need. */
export const tasks = pgTable(
  "tasks",
  {
    id: byteOrderedText("id").primaryKey(),
    taskName: text("task_name").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    statusReason: text("status_reason"),
    params: json("params").$type<unknown>(),
    result: json("result").$type<unknown>(),
    error: json("error").$type<unknown>(),
    progress: json("progress").$type<unknown>(),
    checkpoint: json("checkpoint").$type<unknown>(),
    attempt: integer("attempt").notNull().default(1),
    retries: integer("retries").notNull().default(0),
    priority: integer("priority").notNull().default(0),
    runAt: epochMs("run_at"),
    requestedAction: text("requested_action", { enum: REQUESTED_ACTIONS }),
    idempotencyKey: text("idempotency_key"),
    tags: jsonb("tags").$type<string[]>(),
    startTime: epochMs("start_time"),
    endTime: epochMs("end_time"),
    lastRunTime: epochMs("last_run_time"),
    createdAt: epochMs("created_at").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
    traceparent: text("traceparent"),
    requestId: text("request_id"),
    parentId: text("parent_id"),
    /** Summed over runs: a long-lived task outgrows an int4's 24 days. */
    activeMs: bigint("active_ms", { mode: "number" }).notNull().default(0),
    scheduleId: text("schedule_id"),
    scheduleFireTime: epochMs("schedule_fire_time"),
    /** The node that claimed the task, while it is RUNNING; null otherwise. */
    nodeId: text("node_id"),
    /**
     * The fencing token: bumped by every claim, so a write about a run (`node_id` and
     * `lease_epoch` as its node claimed it) changes nothing once another node has taken the task.
     */
    leaseEpoch: integer("lease_epoch").notNull().default(0),
    /** Until when the claim holds, by the database's clock (epoch ms); renewed by its node's heartbeat. */
    leaseExpiresAt: epochMs("lease_expires_at"),
    /**
     * The keys of the task's rate limit and per-key concurrency, computed when it was created;
     * null where its class declares no such limit. A claim counts its limits by them.
     */
    rateKey: text("rate_key"),
    concurrencyKey: text("concurrency_key"),
    /** What the task does when a `dependsOn` dependency does not finish; null without dependencies. */
    dependencyPolicy: text("dependency_policy"),
    /** While PENDING: "dependencies" or "children" when something holds it back (no claim takes it). */
    awaiting: text("awaiting"),
  },
  (table) => [
    index("tasks_status_id").on(table.status, table.id),
    // Partial: most tasks have no parent and no wait, and cost these indexes nothing.
    index("tasks_parent_id").on(table.parentId).where(sql`${table.parentId} IS NOT NULL`),
    index("tasks_awaiting").on(table.id).where(sql`${table.awaiting} IS NOT NULL`),
    // The claim's order: the next ready task is the first row of this index.
    // Held-back tasks (dependencies, a wait for children) are not in it: a claim never reads past them.
    index("tasks_ready")
      .on(table.priority.desc(), table.id)
      .where(sql`${table.status} = 'PENDING' AND ${table.awaiting} IS NULL`),
    // The rescue's scan, and a heartbeat's renewal of one node's leases.
    index("tasks_leases").on(table.nodeId, table.leaseExpiresAt).where(sql`${table.status} = 'RUNNING'`),
    index("tasks_name_id").on(table.taskName, table.id),
    // For endedAfter / endedBefore: a window of end times is read from the index alone, its ids
    // sorted there, and only the page's rows fetched. Partial: a task enters it when it ends.
    index("tasks_end_time").on(table.endTime, table.id).where(sql`${table.endTime} IS NOT NULL`),
    // A flow claim's candidates: one name's ready rows in claim order.
    index("tasks_flow_ready")
      .on(table.taskName, table.priority.desc(), table.id)
      .where(sql`${table.status} = 'PENDING' AND ${table.awaiting} IS NULL`),
    // For `tags @> '["x"]'`: a page of a rare tag reads its few tasks, not every task until the
    // page is full. jsonb_path_ops: smaller than the default opclass, and containment is all kiln asks.
    index("tasks_tags").using("gin", table.tags.op("jsonb_path_ops")),
    uniqueIndex("tasks_idempotency_key")
      .on(table.idempotencyKey)
      .where(sql`${table.idempotencyKey} IS NOT NULL`),
    check(CHECKS.taskStatus.name, sql.raw(CHECKS.taskStatus.sql)),
    check(CHECKS.requestedAction.name, sql.raw(CHECKS.requestedAction.sql)),
  ],
);

/** What a task waits for: its `dependsOn` (kind "depends") and its latest `waitFor` (kind "wait"). */
export const taskDependencies = pgTable(
  "task_dependencies",
  {
    taskId: byteOrderedText("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    dependsOnId: byteOrderedText("depends_on_id").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.taskId, table.kind, table.dependsOnId] }),
    index("task_dependencies_depends_on").on(table.dependsOnId),
  ],
);

/**
 * The searchable fields of a task's params (src/store/param-fields.ts), as in SQLite. The task
 * id compares byte by byte like `tasks.id`: a param filter's page walks this index newest first.
 */
export const taskParams = pgTable(
  "task_params",
  {
    taskId: byteOrderedText("task_id")
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

/** Append-only history: every transition and every control request. */
export const taskEvents = pgTable(
  "task_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    at: epochMs("at").notNull(),
    fromStatus: text("from_status", { enum: TASK_STATUSES }),
    toStatus: text("to_status", { enum: TASK_STATUSES }),
    action: text("action", { enum: EVENT_ACTIONS }).notNull(),
    reason: text("reason"),
    actor: text("actor"),
    source: text("source"),
  },
  (table) => [
    index("task_events_task_id").on(table.taskId, table.id),
    check(CHECKS.eventAction.name, sql.raw(CHECKS.eventAction.sql)),
  ],
);

export const taskLogs = pgTable(
  "task_logs",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    at: epochMs("at").notNull(),
    level: text("level", { enum: LOG_LEVELS }).notNull(),
    message: text("message").notNull(),
  },
  (table) => [
    index("task_logs_task_id").on(table.taskId, table.id),
    check(CHECKS.logLevel.name, sql.raw(CHECKS.logLevel.sql)),
  ],
);

/** As SQLite's (src/store/schema.ts). */
export const schedules = pgTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    taskName: text("task_name").notNull(),
    cron: text("cron"),
    everyMs: bigint("every_ms", { mode: "number" }),
    timezone: text("timezone"),
    params: json("params").$type<unknown>(),
    priority: integer("priority").notNull().default(0),
    tags: jsonb("tags").$type<string[]>(),
    misfire: text("misfire", { enum: MISFIRE_POLICIES }).notNull(),
    backfillMs: bigint("backfill_ms", { mode: "number" }),
    overlap: text("overlap", { enum: OVERLAP_POLICIES }).notNull(),
    paused: boolean("paused").notNull().default(false),
    source: text("source", { enum: SCHEDULE_SOURCES }).notNull(),
    nextRunAt: epochMs("next_run_at"),
    lastRunAt: epochMs("last_run_at"),
    lastTaskId: text("last_task_id"),
    createdAt: epochMs("created_at").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (table) => [
    index("schedules_next_run_at").on(table.nextRunAt),
    check(CHECKS.scheduleMisfire.name, sql.raw(CHECKS.scheduleMisfire.sql)),
    check(CHECKS.scheduleOverlap.name, sql.raw(CHECKS.scheduleOverlap.sql)),
    check(CHECKS.scheduleSource.name, sql.raw(CHECKS.scheduleSource.sql)),
    check(CHECKS.scheduleTiming.name, sql.raw(CHECKS.scheduleTiming.sql)),
  ],
);

/** As SQLite's: the unique (schedule, fire time) key makes each fire happen once. */
export const scheduleFires = pgTable(
  "schedule_fires",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    scheduleId: text("schedule_id")
      .notNull()
      .references(() => schedules.id, { onDelete: "cascade" }),
    fireTime: epochMs("fire_time").notNull(),
    taskId: text("task_id"),
    skipReason: text("skip_reason"),
    waitsFor: text("waits_for"),
    recordedAt: epochMs("recorded_at").notNull(),
  },
  (table) => [
    uniqueIndex("schedule_fires_schedule_time").on(table.scheduleId, table.fireTime),
    index("schedule_fires_waits_for").on(table.waitsFor),
    check(CHECKS.fireOutcome.name, sql.raw(CHECKS.fireOutcome.sql)),
  ],
);

/** As SQLite's: the task names paused by a client. */
export const pausedTaskTypes = pgTable("paused_task_types", {
  taskName: text("task_name").primaryKey(),
  pausedBy: text("paused_by"),
  pausedAt: epochMs("paused_at").notNull(),
  pauseRunning: boolean("pause_running").notNull().default(false),
});

/** One row per live kiln node sharing the database: registered at start, renewed by its heartbeat. */
export const nodes = pgTable("nodes", {
  /** `<name>/<8 hex>`: fresh on every start, so a restarted node is a new node. */
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  startedAt: epochMs("started_at").notNull(),
  lastHeartbeatAt: epochMs("last_heartbeat_at").notNull(),
  /** "alive", or "stopping" once its graceful shutdown has begun. */
  status: text("status").notNull(),
  concurrency: integer("concurrency").notNull(),
  /** Runs holding a slot on the node, as of its last heartbeat. */
  running: integer("running").notNull().default(0),
});

/**
 * The cluster's leader: at most one row, whose term ends at `expires_at` unless its node renews
 * it. Upkeep (rescue, retention, node cleanup) runs on the leader only.
 */
export const leader = pgTable("leader", {
  name: text("name").primaryKey(),
  nodeId: text("node_id").notNull(),
  electedAt: epochMs("elected_at").notNull(),
  expiresAt: epochMs("expires_at").notNull(),
});

/**
 * The recent starts of rate-limited names, by rate key, on the database's clock: what a claim
 * counts a rate limit's window from. Written by the claim that starts the run, under the name's
 * claim lock, and pruned by the next claims of the name once the window has passed.
 */
export const rateStarts = pgTable(
  "rate_starts",
  {
    taskName: text("task_name").notNull(),
    rateKey: text("rate_key").notNull(),
    at: epochMs("at").notNull(),
  },
  (table) => [index("rate_starts_name_key_at").on(table.taskName, table.rateKey, table.at)],
);
