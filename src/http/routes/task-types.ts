import { Elysia } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import { presentTaskType } from "../presenters.ts";
import { TaskTypeList } from "../schemas.ts";

/** The registered task names with their schemas and options. */
export function taskTypeRoutes(manager: TaskManager) {
  return new Elysia({ tags: ["task types"] })
    .decorate("kiln", manager)
    .get("/task-types", ({ kiln }) => ({ items: kiln.taskTypes().map(presentTaskType) }), {
      response: { 200: TaskTypeList },
      detail: { summary: "List the task names that can be created, with their params and result schemas" },
    });
}
