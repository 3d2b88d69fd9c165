import type { Static, TSchema } from "@sinclair/typebox";
import { contextOf, type ManagerEvent, type ManagerStats, type RegisteredTask } from "../engine/index.ts";
import type { TaskEventRecord, TaskLogRecord, TaskProgress, TaskRecord } from "../store/index.ts";
import type {
  ContextSchema,
  EventSchema,
  LogSchema,
  ProgressSchema,
  TaskSchema,
  TaskTypeSchema,
} from "./schemas.ts";

export type TaskJson = Static<typeof TaskSchema>;
export type ProgressJson = Static<typeof ProgressSchema>;
export type EventJson = Static<typeof EventSchema>;
export type LogJson = Static<typeof LogSchema>;
export type TaskTypeJson = Static<typeof TaskTypeSchema>;
export type ContextJson = Static<typeof ContextSchema>;

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function presentProgress(progress: TaskProgress | null): ProgressJson | null {
  if (!progress) return null;
  const { done, total, message } = progress;
  const percent = total !== null && total > 0 ? Math.round((done / total) * 1000) / 10 : null;
  return { done, total, percent, message };
}

/** Wall time from the first start to the end, or to `now` while the task has not ended. */
function durationMs(task: TaskRecord, now: number): number | null {
  if (task.startTime === null) return null;
  return Math.max(0, (task.endTime ?? now) - task.startTime);
}

/**
 * Running time: what the ended runs and stretches added, plus the current stretch of a RUNNING
 * task, which began at its last (re)start.
 */
function activeMs(task: TaskRecord, now: number): number {
  const current = task.status === "RUNNING" && task.lastRunTime !== null ? now - task.lastRunTime : 0;
  return task.activeMs + Math.max(0, current);
}

export function presentTask(task: TaskRecord): TaskJson {
  const now = Date.now();
  return {
    id: task.id,
    name: task.taskName,
    status: task.status,
    statusReason: task.statusReason,
    params: task.params,
    result: task.result,
    error: task.error,
    progress: presentProgress(task.progress),
    attempt: task.attempt,
    priority: task.priority,
    tags: task.tags ?? [],
    requestedAction: task.requestedAction,
    createdAt: iso(task.createdAt),
    startTime: iso(task.startTime),
    endTime: iso(task.endTime),
    lastRunTime: iso(task.lastRunTime),
    runAt: iso(task.runAt),
    durationMs: durationMs(task, now),
    activeMs: activeMs(task, now),
    parentId: task.parentId,
    context: contextOf(task),
  };
}

/** `context` is the task's request context, shown on its create event. */
export function presentEvent(event: TaskEventRecord, context: ContextJson | null = null): EventJson {
  return {
    id: event.id,
    at: iso(event.at),
    from: event.fromStatus,
    to: event.toStatus,
    action: event.action,
    reason: event.reason,
    actor: event.actor,
    source: event.source,
    context: event.action === "create" ? context : null,
  };
}

export function presentLog(log: TaskLogRecord): LogJson {
  return { id: log.id, at: iso(log.at), level: log.level, message: log.message };
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
        at: iso(event.at),
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
        at: iso(event.at),
        action: event.action,
        reason: event.reason,
        actor: event.actor,
        source: event.source,
        task: presentTask(event.task),
      };
    case "progress":
      return { at: iso(event.at), taskId: event.taskId, progress: presentProgress(event.progress) };
    case "log":
      return { at: iso(event.at), taskId: event.taskId, level: event.level, message: event.message };
  }
}

/** The task a stream event is about. */
export function eventTaskId(event: ManagerEvent): string {
  return event.type === "transition" || event.type === "request" ? event.task.id : event.taskId;
}
