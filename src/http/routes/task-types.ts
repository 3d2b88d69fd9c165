import { Elysia, t } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import type { TaskTypePause } from "../../store/index.ts";
import type { TokenAuth } from "../auth.ts";
import { presentTaskType } from "../presenters.ts";
import { ErrorSchema, TaskTypeList, TaskTypePauseSchema } from "../schemas.ts";

const NameParams = t.Object({
  name: t.String({ minLength: 1, maxLength: 128, description: "The task name" }),
});
const PauseQuery = t.Object({
  running: t.Optional(
    t.Union([t.Literal("keep"), t.Literal("pause")], {
      description:
        '"pause": the running tasks of the name pause at their next checkpoint too; default "keep"',
    }),
  ),
});
const ERRORS = { 404: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema };

export function presentTaskTypePause(pause: TaskTypePause) {
  return {
    pausedBy: pause.pausedBy,
    pausedAt: new Date(pause.pausedAt).toISOString(),
    pauseRunning: pause.pauseRunning,
  };
}

/** The registered task names with their schemas and options, and pausing a whole name. */
export function taskTypeRoutes(manager: TaskManager, auth: TokenAuth) {
  return new Elysia({ tags: ["task types"] })
    .decorate("kiln", manager)
    .get(
      "/task-types",
      async ({ kiln }) => {
        const pauses = new Map(
          (await kiln.taskTypePauses()).map((pause) => [pause.taskName, pause] as const),
        );
        return {
          items: kiln.taskTypes().map((task) => {
            const pause = pauses.get(task.name);
            return { ...presentTaskType(task), paused: pause ? presentTaskTypePause(pause) : null };
          }),
        };
      },
      {
        response: { 200: TaskTypeList },
        detail: { summary: "List the task names that can be created, with their params and result schemas" },
      },
    )
    .post(
      "/task-types/:name/pause",
      async ({ kiln, params, query, request, server }) => {
        const { pause, runsAskedToPause } = await kiln.pauseTaskType(params.name, {
          ...auth.requester(request, server),
          running: query.running ?? "keep",
        });
        return { name: params.name, paused: presentTaskTypePause(pause), runsAskedToPause };
      },
      {
        params: NameParams,
        query: PauseQuery,
        response: {
          200: t.Object({ name: t.String(), paused: TaskTypePauseSchema, runsAskedToPause: t.Integer() }),
          ...ERRORS,
        },
        detail: {
          summary: "Pause a task name: no new task of it starts until resumed (they wait PENDING); durable",
        },
      },
    )
    .post(
      "/task-types/:name/resume",
      async ({ kiln, params, request, server }) => {
        const wasPaused = await kiln.resumeTaskType(params.name, auth.requester(request, server));
        return { name: params.name, wasPaused };
      },
      {
        params: NameParams,
        response: { 200: t.Object({ name: t.String(), wasPaused: t.Boolean() }), ...ERRORS },
        detail: {
          summary:
            "Resume a task name: its waiting tasks may start, and the tasks its pause paused at a checkpoint resume",
        },
      },
    );
}
