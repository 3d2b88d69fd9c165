import { authHeaders } from "./token.ts";
import type {
  BulkBody,
  BulkResult,
  ControlAction,
  EventJson,
  LogJson,
  NodeListJson,
  Page,
  ScheduleDetailJson,
  ScheduleJson,
  StatsJson,
  TaskDetailJson,
  TaskJson,
  TaskStatus,
  TaskTypeJson,
  TaskTypeListItem,
  TaskTypePauseJson,
} from "./types.ts";

/** An answer in the API's error shape, or a request that never got one (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface TaskQuery {
  status?: TaskStatus | undefined;
  name?: string | undefined;
  tag?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface NewTaskBody {
  name: string;
  params?: unknown;
  priority?: number;
  tags?: string[];
  runAt?: string;
  idempotencyKey?: string;
}

export interface NewScheduleBody {
  name: string;
  cron?: string;
  everyMs?: number;
  timezone?: string;
  params?: unknown;
}

const schedulePath = (id: string, rest = "") => `schedules/${encodeURIComponent(id)}${rest}`;

export interface CreateAnswer {
  /** 201: created; 200: a task with the same idempotency key existed, and this is it. */
  status: number;
  task: TaskJson;
}

export interface ControlAnswer {
  /** 200: done; 202: stored, the running task acts on it at its next checkpoint. */
  status: number;
  task: TaskJson;
}

type Unauthorized = (error: ApiError) => void;

let onUnauthorized: Unauthorized = () => {};

/** Who hears of a 401 from any request: the page then asks for the token again. */
export function setUnauthorizedHandler(handler: Unauthorized): void {
  onUnauthorized = handler;
}

async function failure(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  const code = typeof error?.code === "string" ? error.code : "http_error";
  const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
  return new ApiError(response.status, code, message, error?.details);
}

/**
 * One call to the API. Paths are relative ("tasks", not "/tasks"): the page lives at
 * `<base>/dashboard`, so they resolve under whatever prefix kiln is mounted at.
 */
async function request<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: "no-store",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, "network", "could not reach the kiln server");
  }
  if (!response.ok) {
    const error = await failure(response);
    if (error.status === 401) onUnauthorized(error);
    throw error;
  }
  const parsed = response.status === 204 ? undefined : await response.json();
  return { status: response.status, body: parsed as T };
}

const get = async <T>(path: string): Promise<T> => (await request<T>("GET", path)).body;

const taskPath = (id: string, rest = "") => `tasks/${encodeURIComponent(id)}${rest}`;

function query(values: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const api = {
  taskTypes: () => get<{ items: TaskTypeJson[] }>("task-types"),
  /** The task names with their pauses (`paused`, null when not paused). */
  taskTypeList: () => get<{ items: TaskTypeListItem[] }>("task-types"),
  pauseTaskType: async (name: string, running: "keep" | "pause") =>
    (
      await request<{ name: string; paused: TaskTypePauseJson; runsAskedToPause: number }>(
        "POST",
        `task-types/${encodeURIComponent(name)}/pause${running === "pause" ? "?running=pause" : ""}`,
      )
    ).body,
  resumeTaskType: async (name: string) =>
    (
      await request<{ name: string; wasPaused: boolean }>(
        "POST",
        `task-types/${encodeURIComponent(name)}/resume`,
      )
    ).body,
  stats: (minutes: number) => get<StatsJson>(`stats${query({ minutes })}`),
  listTasks: (q: TaskQuery) => get<Page<TaskJson, string>>(`tasks${query({ ...q })}`),
  task: (id: string) => get<TaskDetailJson>(taskPath(id)),
  history: (id: string, after: number | undefined) =>
    get<Page<EventJson, number>>(taskPath(id, `/events${query({ after, limit: 500 })}`)),
  logs: (id: string, after: number | undefined) =>
    get<Page<LogJson, number>>(taskPath(id, `/logs${query({ after, limit: 500 })}`)),
  create: async (body: NewTaskBody): Promise<CreateAnswer> => {
    const answer = await request<TaskJson>("POST", "tasks", body);
    return { status: answer.status, task: answer.body };
  },
  bulk: async (body: BulkBody) => (await request<BulkResult>("POST", "tasks/bulk", body)).body,
  control: async (id: string, action: ControlAction): Promise<ControlAnswer> => {
    const answer = await request<{ task: TaskJson }>("POST", taskPath(id, `/${action}`));
    return { status: answer.status, task: answer.body.task };
  },
  nodes: () => get<NodeListJson>("nodes"),
  runningTasks: () => get<Page<TaskJson, string>>(`tasks${query({ status: "RUNNING", limit: 500 })}`),
  schedules: () => get<{ items: ScheduleJson[] }>("schedules"),
  schedule: (id: string) => get<ScheduleDetailJson>(schedulePath(id)),
  createSchedule: async (body: NewScheduleBody) =>
    (await request<{ schedule: ScheduleJson }>("POST", "schedules", body)).body.schedule,
  scheduleAction: async (id: string, action: "pause" | "resume") =>
    (await request<{ schedule: ScheduleJson }>("POST", schedulePath(id, `/${action}`))).body.schedule,
  triggerSchedule: async (id: string) =>
    (await request<{ task: TaskJson }>("POST", schedulePath(id, "/trigger"))).body.task,
  remove: async (id: string): Promise<void> => {
    await request<undefined>("DELETE", taskPath(id));
  },
};
