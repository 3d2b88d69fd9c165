// The API's JSON shapes, shared with the server so the page and the routes cannot drift apart.

import type { BulkBodyJson } from "../../http/bulk/schemas.ts";
import type {
  EventJson,
  LogJson,
  ProgressJson,
  TaskDetailJson,
  TaskJson,
  TaskTypeJson,
} from "../../http/presenters.ts";
import type { NodeJson, NodeListJson } from "../../http/routes/nodes.ts";
import type { StatsJson } from "../../http/routes/stats.ts";
import type { ScheduleDetailJson, ScheduleJson } from "../../http/schedule-schemas.ts";
import type { EventAction } from "../../task/status.ts";

export type { BulkAction, BulkFilter, BulkItem, BulkResult } from "../../engine/lifecycle/bulk.ts";
export type {
  EventJson,
  LogJson,
  NodeJson,
  NodeListJson,
  ProgressJson,
  ScheduleDetailJson,
  ScheduleJson,
  StatsJson,
  TaskDetailJson,
  TaskJson,
  TaskTypeJson,
};
export type BulkBody = BulkBodyJson;

/** A task name's pause as `GET /task-types` shows it. */
export interface TaskTypePauseJson {
  pausedBy: string | null;
  pausedAt: string;
  pauseRunning: boolean;
}

export type TaskTypeListItem = TaskTypeJson & { paused: TaskTypePauseJson | null };

export type TaskStatus = TaskJson["status"];
export type ControlAction = "pause" | "resume" | "stop" | "restart";

export interface Page<T, C> {
  items: T[];
  nextCursor: C | null;
}

/** One event of GET /events, as presentManagerEvent writes it. */
export type StreamEvent =
  | {
      type: "transition";
      data: {
        at: string | null;
        from: TaskStatus | null;
        to: TaskStatus;
        action: EventAction;
        reason: string | null;
        actor: string | null;
        source: string | null;
        task: TaskJson;
      };
    }
  | {
      type: "request";
      data: {
        at: string | null;
        action: EventAction;
        reason: string | null;
        actor: string | null;
        source: string | null;
        task: TaskJson;
      };
    }
  | { type: "progress"; data: { at: string | null; taskId: string; progress: ProgressJson | null } }
  | { type: "log"; data: { at: string | null; taskId: string; level: LogJson["level"]; message: string } };

/** The task an event is about. */
export function eventTaskId(event: StreamEvent): string {
  return event.type === "transition" || event.type === "request" ? event.data.task.id : event.data.taskId;
}
