import { Elysia } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import { contextOf } from "../../engine/index.ts";
import { presentEvent, presentLog } from "../presenters.ts";
import { ErrorSchema, EventPage, HistoryQuery, IdParams, LogPage } from "../schemas.ts";

/** A task's history (transitions and control requests) and its log lines, oldest first. */
export function historyRoutes(manager: TaskManager) {
  return new Elysia({ tags: ["tasks"] })
    .decorate("kiln", manager)
    .get(
      "/tasks/:id/events",
      async ({ kiln, params, query }) => {
        const context = contextOf(await kiln.require(params.id));
        const page = await kiln.events(params.id, { after: query.after, limit: query.limit });
        return {
          items: page.items.map((event) => presentEvent(event, context)),
          nextCursor: page.nextCursor,
        };
      },
      {
        params: IdParams,
        query: HistoryQuery,
        response: { 200: EventPage, 404: ErrorSchema, 422: ErrorSchema },
        detail: {
          summary: "A task's history, oldest first; pass nextCursor as after for the next page",
          description: "The create event carries the request context the task was created with.",
        },
      },
    )
    .get(
      "/tasks/:id/logs",
      async ({ kiln, params, query }) => {
        const context = contextOf(await kiln.require(params.id));
        const page = await kiln.logs(params.id, { after: query.after, limit: query.limit });
        return { items: page.items.map(presentLog), nextCursor: page.nextCursor, context };
      },
      {
        params: IdParams,
        query: HistoryQuery,
        response: { 200: LogPage, 404: ErrorSchema, 422: ErrorSchema },
        detail: {
          summary: "A task's log lines, oldest first; pass nextCursor as after for the next page",
          description:
            "context is the task's request context (traceparent, requestId), the same for every line: correlate the lines with it.",
        },
      },
    );
}
