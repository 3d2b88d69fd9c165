import type { Static, TSchema } from "@sinclair/typebox";
import type { ManagerEvent, RegisteredTask } from "../engine/index.ts";
import type { TaskEventRecord, TaskLogRecord, TaskProgress, TaskRecord } from "../store/index.ts";
import type { EventSchema, LogSchema, ProgressSchema, TaskSchema, TaskTypeSchema } from "./schemas.ts";

export type TaskJson = Static<typeof TaskSchema>;
export type ProgressJson = Static<typeof ProgressSchema>;
export type EventJson = Static<typeof EventSchema>;
export type LogJson = Static<typeof LogSchema>;
export type TaskTypeJson = Static<typeof TaskTypeSchema>;

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

export function presentTask(task: TaskRecord): TaskJson {
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
  };
}

export function presentEvent(event: TaskEventRecord): EventJson {
  return {
    id: event.id,
    at: iso(event.at),
    from: event.fromStatus,
    to: event.toStatus,
    action: event.action,
    reason: event.reason,
    actor: event.actor,
    source: event.source,
  };
}

export function presentLog(log: TaskLogRecord): LogJson {
  return { id: log.id, at: iso(log.at), level: log.level, message: log.message };
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
