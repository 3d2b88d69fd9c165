import type { Static, TSchema } from "@sinclair/typebox";
import type { TaskTree } from "../engine/index.ts";
import {
  contextOf,
  LATEST_DATE_MS,
  type ManagerEvent,
  type ManagerStats,
  type RegisteredTask,
} from "../engine/index.ts";
import type { TaskEventRecord, TaskLogRecord, TaskProgress, TaskRecord } from "../store/index.ts";
import { isTaskStatus, type TaskStatus } from "../task/index.ts";
import type {
  ContextSchema,
  EventSchema,
  LogSchema,
  ProgressSchema,
  TaskDetailSchema,
  TaskSchema,
  TaskTypeSchema,
} from "./schemas.ts";

export type TaskJson = Static<typeof TaskSchema>;
export type ProgressJson = Static<typeof ProgressSchema>;
export type EventJson = Static<typeof EventSchema>;
export type LogJson = Static<typeof LogSchema>;
export type TaskTypeJson = Static<typeof TaskTypeSchema>;
export type ContextJson = Static<typeof ContextSchema>;

/** An ISO 8601 time of kiln's own clock (now, a bucket of /stats). */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** 0000-01-01T00:00:00.000Z: the earliest time with a four-digit year. */
const EARLIEST_DATE_MS = -62_167_219_200_000;

/**
 * A stored time (epoch ms) as ISO 8601, or null when it is not a date with a four-digit year.
 * kiln stores only such dates, but a row altered outside kiln may hold anything, and no read of
 * it may fail (`toISOString` throws on an invalid date).
 */
export function storedTime(ms: unknown): string | null {
  return storedMs(ms) === null ? null : new Date(ms as number).toISOString();
}

/**
 * A stored epoch-ms time that presents as a date, or null. Checked by range rather than by
 * formatting it: a page of 500 tasks computes three durations each, and formatting is what
 * `storedTime` costs.
 */
function storedMs(ms: unknown): number | null {
  return typeof ms === "number" && ms >= EARLIEST_DATE_MS && ms <= LATEST_DATE_MS ? ms : null;
}

/** Wall time from the first start to the end, or to `now` while the task has not ended. */
function durationMs(task: TaskRecord, now: number): number | null {
  const start = storedMs(task.startTime);
  if (start === null) return null;
  return Math.max(0, (storedMs(task.endTime) ?? now) - start);
}

/**
 * Running time: what the ended runs and stretches added, plus the current stretch of a RUNNING
 * task, which began at its last (re)start.
 */
function activeMs(task: TaskRecord, now: number): number {
  const lastRun = storedMs(task.lastRunTime);
  const current = task.status === "RUNNING" && lastRun !== null ? now - lastRun : 0;
  return storedInteger(task.activeMs, 0) + Math.max(0, current);
}

/** Text for a stored text column: null stays null, anything else that is not text is made text. */
function storedText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : String(value);
}

function storedInteger(value: unknown, fallback: number): number {
  return Number.isSafeInteger(value) ? (value as number) : fallback;
}

/** Progress as the API shows it, from whatever the row holds: null unless `done` is a finite number. */
export function presentProgress(progress: unknown): ProgressJson | null {
  if (typeof progress !== "object" || progress === null) return null;
  const { done, total, message } = progress as Partial<Record<keyof TaskProgress, unknown>>;
  if (typeof done !== "number" || !Number.isFinite(done)) return null;
  const known = typeof total === "number" && Number.isFinite(total) ? total : null;
  const ratio = known !== null && known > 0 ? Math.round((done / known) * 1000) / 10 : null;
  return {
    done,
    total: known,
    percent: ratio !== null && Number.isFinite(ratio) ? ratio : null,
    message: typeof message === "string" ? message : null,
  };
}

/**
 * A task as the API shows it. Every field is made to fit the schema whatever the row holds, so
 * that a row altered outside kiln still reads (with null where a value cannot be shown) instead
 * of failing the task's page, every list page holding it and the stream.
 */
export function presentTask(task: TaskRecord): TaskJson {
  const now = Date.now();
  return {
    id: String(task.id),
    name: String(task.taskName),
    status: task.status,
    statusReason: storedText(task.statusReason),
    params: task.params,
    result: task.result,
    error: task.error,
    progress: presentProgress(task.progress),
    attempt: storedInteger(task.attempt, 1),
    priority: storedInteger(task.priority, 0),
    tags: Array.isArray(task.tags) ? task.tags.filter((tag): tag is string => typeof tag === "string") : [],
    requestedAction: task.requestedAction,
    createdAt: storedTime(task.createdAt),
    startTime: storedTime(task.startTime),
    endTime: storedTime(task.endTime),
    lastRunTime: storedTime(task.lastRunTime),
    runAt: storedTime(task.runAt),
    durationMs: durationMs(task, now),
    activeMs: activeMs(task, now),
    parentId: storedText(task.parentId),
    context: contextOf(task),
    schedule:
      typeof task.scheduleId === "string"
        ? { id: task.scheduleId, fireTime: storedTime(task.scheduleFireTime) }
        : null,
    node: task.status === "RUNNING" ? storedText(task.node) : null,
    awaiting:
      task.status === "PENDING" && (task.awaiting === "dependencies" || task.awaiting === "children")
        ? task.awaiting
        : null,
    onDependencyFailure:
      task.dependencyPolicy === "fail" || task.dependencyPolicy === "stop" || task.dependencyPolicy === "run"
        ? task.dependencyPolicy
        : null,
  };
}

const statusOrNull = (status: unknown): TaskStatus | null => (isTaskStatus(status) ? status : null);

/** `context` is the task's request context, shown on its create event. */
export function presentEvent(event: TaskEventRecord, context: ContextJson | null = null): EventJson {
  return {
    id: event.id,
    at: storedTime(event.at),
    from: statusOrNull(event.fromStatus),
    to: statusOrNull(event.toStatus),
    action: String(event.action),
    reason: storedText(event.reason),
    actor: storedText(event.actor),
    source: storedText(event.source),
    context: event.action === "create" ? context : null,
  };
}

export function presentLog(log: TaskLogRecord): LogJson {
  return { id: log.id, at: storedTime(log.at), level: log.level, message: String(log.message) };
}

/**
 * Workers (threads and task processes) by state. A paused task that keeps its worker holds it
 * parked: neither idle nor busy, so busy never counts more than the runs going on.
 */
export function workerStates(stats: ManagerStats): { busy: number; idle: number; parked: number } {
  const busy = Math.max(0, stats.workers - stats.idleWorkers - stats.parked);
  return { busy, idle: stats.idleWorkers, parked: stats.parked };
}

/** A TypeBox schema as plain JSON Schema (its symbol keys are not JSON and drop out). */
function jsonSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function presentTaskType(task: RegisteredTask): TaskTypeJson {
  const description = (task.cls as { description?: unknown }).description;
  return {
    name: task.name,
    description: typeof description === "string" ? description : null,
    params: task.paramsSchema ? jsonSchema(task.paramsSchema) : {},
    result: task.resultSchema ? jsonSchema(task.resultSchema) : null,
    options: {
      retry: { ...task.retry },
      timeoutMs: task.timeoutMs ?? null,
      concurrency: task.concurrency ?? null,
      resumable: task.resumable,
      isolation: task.isolation,
      memoryLimitMb: task.memoryLimitMb ?? null,
    },
  };
}

/** What one stream event carries in its `data:` line. */
export function presentManagerEvent(event: ManagerEvent): unknown {
  switch (event.type) {
    case "transition":
      return {
        at: storedTime(event.at),
        from: event.from,
        to: event.to,
        action: event.action,
        reason: event.reason,
        actor: event.actor,
        source: event.source,
        task: presentTask(event.task),
      };
    case "request":
      return {
        at: storedTime(event.at),
        action: event.action,
        reason: event.reason,
        actor: event.actor,
        source: event.source,
        task: presentTask(event.task),
      };
    case "progress":
      return { at: storedTime(event.at), taskId: event.taskId, progress: presentProgress(event.progress) };
    case "log":
      return { at: storedTime(event.at), taskId: event.taskId, level: event.level, message: event.message };
  }
}

/** The task a stream event is about. */
export function eventTaskId(event: ManagerEvent): string {
  return event.type === "transition" || event.type === "request" ? event.task.id : event.taskId;
}

/** GET /tasks/:id: a task with its dependencies, its latest wait and its children. */
export type TaskDetailJson = Static<typeof TaskDetailSchema>;

/** A task with its dependencies, its latest wait and its children (GET /tasks/:id). */
export function presentTaskDetail(tree: TaskTree): Static<typeof TaskDetailSchema> {
  const { counts, total, items } = tree.children;
  const ended = (counts.FINISHED ?? 0) + (counts.FAILED ?? 0) + (counts.STOPPED ?? 0);
  return {
    ...presentTask(tree.task),
    dependsOn: tree.dependsOn,
    waitingFor: tree.waitingFor,
    children: {
      total,
      ended,
      counts: { ...counts },
      items: items.map((child: TaskTree["children"]["items"][number]) => ({
        id: child.id,
        name: child.taskName,
        status: child.status,
      })),
    },
  };
}
