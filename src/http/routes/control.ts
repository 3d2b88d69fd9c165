import type { Static } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { KilnError, type Requester, type TaskManager } from "../../engine/index.ts";
import type { TokenAuth } from "../auth.ts";
import { strictObjectBody } from "../body.ts";
import { presentTask } from "../presenters.ts";
import { ControlBody, ControlDone, ControlPending, ControlQuery, ErrorSchema, IdParams } from "../schemas.ts";

type Action = "pause" | "resume" | "stop" | "restart";

type ControlAnswer =
  | { pending: false; body: Static<typeof ControlDone> }
  | { pending: true; body: Static<typeof ControlPending> };

/**
 * Runs one control action. A request the task must acknowledge is pending (202) unless
 * `waitMs` is given and the task acknowledges within it (200).
 */
async function control(
  manager: TaskManager,
  action: Action,
  id: string,
  reason: string | undefined,
  waitMs: number | undefined,
  by: Requester,
): Promise<ControlAnswer> {
  const result = await manager[action](id, { ...by, reason: reason ?? null });
  let task = result.task;
  if (!result.pending) return { pending: false, body: { task: presentTask(task) } };
  if (waitMs) {
    try {
      task = await manager.waitFor(id, (current) => current.requestedAction === null, waitMs);
    } catch (error) {
      if (!(error instanceof KilnError && error.code === "wait_timeout")) throw error;
      task = await manager.require(id);
    }
  }
  // Acknowledged (during the wait, or before we looked): the request is done.
  if (task.requestedAction === null) return { pending: false, body: { task: presentTask(task) } };
  return { pending: true, body: { task: presentTask(task), requestedAction: task.requestedAction } };
}

const SUMMARIES: Record<Action, string> = {
  pause: "Pause a task: at once when PENDING, at its next checkpoint when RUNNING (202)",
  resume: "Resume a PAUSED task (or withdraw a pause not yet acknowledged)",
  stop: "Stop a task: at once unless RUNNING, then at its next checkpoint or after its grace period (202)",
  restart: "Restart a task from the top: stops it first if live, then queues it with attempt + 1",
};

function hook(action: Action) {
  return {
    params: IdParams,
    query: ControlQuery,
    body: ControlBody,
    transform: strictObjectBody(ControlBody),
    response: {
      200: ControlDone,
      202: ControlPending,
      404: ErrorSchema,
      409: ErrorSchema,
      422: ErrorSchema,
      503: ErrorSchema,
    },
    detail: {
      summary: SUMMARIES[action],
      description:
        "Answers 200 when done at once and 202 with the requested action when the task must acknowledge it. " +
        "With ?wait=<ms>, waits up to that long for the acknowledgement and answers 200 if it came. " +
        "409 for an illegal transition (e.g. pausing a FINISHED task).",
    },
  };
}

/** POST /tasks/:id/<action>: one route, the same for every action. */
function controlRoute(manager: TaskManager, auth: TokenAuth, action: Action) {
  return new Elysia({ tags: ["control"] }).decorate("kiln", manager).post(
    `/tasks/:id/${action}`,
    async ({ kiln, params, query, body, status, request, server }) => {
      const by = auth.requester(request, server);
      const answer = await control(kiln, action, params.id, body?.reason, query.wait, by);
      return answer.pending ? status(202, answer.body) : status(200, answer.body);
    },
    hook(action),
  );
}

/** POST /tasks/:id/{pause,resume,stop,restart}; each records who asked and from where. */
export function controlRoutes(manager: TaskManager, auth: TokenAuth) {
  return new Elysia()
    .use(controlRoute(manager, auth, "pause"))
    .use(controlRoute(manager, auth, "resume"))
    .use(controlRoute(manager, auth, "stop"))
    .use(controlRoute(manager, auth, "restart"));
}
