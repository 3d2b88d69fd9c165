import type { EventAction, LogLevel, RequestedAction, TaskStatus } from "../task/index.ts";
import type { ParamFilter } from "./param-fields.ts";

/** Progress as stored: the latest report of a task. */
export interface TaskProgress {
  done: number;
  total: number | null;
  message: string | null;
}

/** A task row, as the rest of kiln sees it (times are epoch milliseconds). */
export interface TaskRecord {
  id: string;
  taskName: string;
  status: TaskStatus;
  statusReason: string | null;
  params: unknown;
  result: unknown;
  error: unknown;
  progress: TaskProgress | null;
  checkpoint: unknown;
  attempt: number;
  retries: number;
  priority: number;
  runAt: number | null;
  requestedAction: RequestedAction | null;
  idempotencyKey: string | null;
  tags: string[] | null;
  startTime: number | null;
  endTime: number | null;
  lastRunTime: number | null;
  createdAt: number;
  updatedAt: number;
  /** The W3C traceparent of the request that created the task, or derived from its parent's. */
  traceparent: string | null;
  /** The x-request-id of the request that created the task (a child keeps its parent's). */
  requestId: string | null;
  /** The task that spawned this one. */
  parentId: string | null;
  /** Time spent running, summed over runs (paused and queued time excluded), as of the last pause or end. */
  activeMs: number;
  /** The schedule that created the task; null for any other task. */
  scheduleId: string | null;
  /** The fire time (epoch ms) of the schedule it was created for; null for any other task. */
  scheduleFireTime: number | null;
  /** The id of the node running the task, while it is RUNNING on PostgreSQL; null otherwise. */
  node: string | null;
  /** How many times the task has been claimed: the fencing token of its current run. */
  leaseEpoch: number;
  /** The key its rate limit counts it under ("" for a limit over the whole name); null without one. */
  rateKey: string | null;
  /** The key of its per-key concurrency limit; null without one. */
  concurrencyKey: string | null;
  /** "fail", "stop" or "run": what it does when a `dependsOn` dependency does not finish; null without any. */
  dependencyPolicy: string | null;
  /** While PENDING: what holds it back ("dependencies" or "children"); null when nothing does. */
  awaiting: "dependencies" | "children" | null;
}

export interface NewTask {
  id: string;
  taskName: string;
  status: "PENDING" | "PAUSED";
  params: unknown;
  priority: number;
  runAt: number | null;
  idempotencyKey: string | null;
  tags: string[] | null;
  traceparent?: string | null;
  requestId?: string | null;
  parentId?: string | null;
  scheduleId?: string | null;
  scheduleFireTime?: number | null;
  /** Only for a name whose class has a rate limit or a per-key concurrency limit. */
  rateKey?: string | null;
  concurrencyKey?: string | null;
  dependencyPolicy?: string | null;
  awaiting?: "dependencies" | "children" | null;
  /** False: no searchable copy of the params is kept (the class's `static searchableParams`). Not a column. */
  searchableParams?: boolean;
}

/** A new task's columns: what is stored in its row. */
export type NewTaskColumns = Omit<NewTask, "searchableParams">;

/** One history row: a transition (from → to) or a control request (no status change). */
export interface TaskEventRecord {
  id: number;
  taskId: string;
  at: number;
  fromStatus: TaskStatus | null;
  toStatus: TaskStatus | null;
  action: EventAction;
  reason: string | null;
  actor: string | null;
  source: string | null;
}

export type NewTaskEvent = Omit<TaskEventRecord, "id" | "taskId" | "at">;

export interface TaskLogRecord {
  id: number;
  taskId: string;
  at: number;
  level: LogLevel;
  message: string;
}

export type NewTaskLog = Omit<TaskLogRecord, "id">;

/** The columns a transition or update may change. */
export type TaskPatch = Partial<
  Pick<
    TaskRecord,
    | "status"
    | "statusReason"
    | "result"
    | "error"
    | "progress"
    | "checkpoint"
    | "attempt"
    | "retries"
    | "runAt"
    | "requestedAction"
    | "startTime"
    | "endTime"
    | "lastRunTime"
    | "activeMs"
    | "node"
    | "awaiting"
  >
> & {
  /** Adds to `activeMs` (a run's stretch that ended), without reading the row first. */
  addActiveMs?: number;
  /** Sets the progress's `done` to its `total` when a total was reported and not reached. */
  completeProgress?: true;
};

export interface ListTasksQuery {
  status?: TaskStatus | undefined;
  name?: string | undefined;
  tag?: string | undefined;
  /** Fields of the params, all of which must match (see param-fields.ts for what is searchable). */
  params?: readonly ParamFilter[] | undefined;
  /** Created at or after this time (epoch ms). */
  createdAfter?: number | undefined;
  /** Created before this time (epoch ms). */
  createdBefore?: number | undefined;
  /** Ended at or after this time (epoch ms); a task that has not ended has no end time and never matches. */
  endedAfter?: number | undefined;
  /** Ended before this time (epoch ms). */
  endedBefore?: number | undefined;
  /** At most this many items (the store caps it). */
  limit?: number | undefined;
  /** The id of the last item of the previous page. */
  cursor?: string | undefined;
}

export interface Page<T, C> {
  items: T[];
  nextCursor: C | null;
}

/** What one telemetry tick writes: the latest progress and checkpoint per task, and new log lines. */
export interface TelemetryBatch {
  progress: Map<string, TaskProgress>;
  checkpoints: Map<string, unknown>;
  logs: NewTaskLog[];
  /** The claim each task's run holds, on a store shared by nodes: its progress and checkpoint land only while it holds. */
  fences?: ReadonlyMap<string, { node: string; epoch: number }>;
}

/**
 * A value already turned into JSON text (and checked) where it entered kiln, in a task's worker:
 * the store writes the text as it is instead of serialising `value` again.
 */
export class JsonText {
  constructor(
    readonly text: string,
    /** The value the text holds, for the engine's own checks (a result's schema). */
    readonly value: unknown,
  ) {}
}

/**
 * What a read gives for a JSON column whose stored text cannot be used (not JSON, or nested too
 * deep to send back): the task stays readable, and `unreadable` says what is wrong. A task whose
 * params or checkpoint read as this fails when it would run, with that reason.
 */
export class UnreadableValue {
  constructor(readonly unreadable: string) {}
}
