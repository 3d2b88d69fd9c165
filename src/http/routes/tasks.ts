import { Elysia, t } from "elysia";
import type { Logger, TaskManager } from "../../engine/index.ts";
import type { TokenAuth } from "../auth.ts";
import { strictObjectBody } from "../body.ts";
import { httpError } from "../errors.ts";
import { jsonResponse } from "../json-response.ts";
import { presentTask, presentTaskDetail } from "../presenters.ts";
import {
  CreateTaskBody,
  ErrorSchema,
  IdParams,
  ListTasksQuery,
  TaskDetailSchema,
  TaskPage,
  TaskSchema,
} from "../schemas.ts";
import { SEARCH_DESCRIPTION, searchFilters } from "../task-search.ts";

function epochMs(runAt: string | number | undefined): number | undefined {
  if (runAt === undefined || typeof runAt === "number") return runAt;
  const ms = Date.parse(runAt);
  // A zone offset can move a date of year 9999 past its end; the engine refuses that with a 422.
  if (Number.isNaN(ms)) {
    throw httpError("validation", 422, `invalid body: "runAt" is not a date-time: ${runAt}`, {
      in: "body",
      issues: [{ path: "runAt", message: "not a date-time" }],
    });
  }
  return ms;
}

/**
 * Create, list, read and delete tasks. A create records who asked and from where in the
 * task's history; a delete removes that history, so it leaves the same in the service log.
 */
export function taskRoutes(manager: TaskManager, auth: TokenAuth, logger: Logger) {
  return new Elysia({ tags: ["tasks"] })
    .decorate("kiln", manager)
    .post(
      "/tasks",
      // submit, not create: requests that arrive together share one commit (group commit).
      async ({ kiln, body, request, server, set }) => {
        const { task, created } = await kiln.submit(body.name, body.params, {
          priority: body.priority,
          runAt: epochMs(body.runAt),
          idempotencyKey: body.idempotencyKey,
          tags: body.tags,
          dependsOn: body.dependsOn,
          onDependencyFailure: body.onDependencyFailure,
          ...auth.requester(request, server),
          // Dropped by the engine when not valid (W3C Trace Context; 1-200 printable characters).
          context: {
            traceparent: request.headers.get("traceparent") ?? undefined,
            requestId: request.headers.get("x-request-id") ?? undefined,
          },
        });
        // Encoded here, unchecked by Elysia, as a page is (tests/http/task-page-schema.test.ts).
        return jsonResponse(set, presentTask(task), created ? 201 : 200);
      },
      {
        body: CreateTaskBody,
        transform: strictObjectBody(CreateTaskBody),
        response: {
          200: TaskSchema,
          201: TaskSchema,
          404: ErrorSchema,
          409: ErrorSchema,
          422: ErrorSchema,
          503: ErrorSchema,
        },
        detail: {
          summary: "Create a task",
          description:
            "201 with the new task; 200 with the earlier task when the same name and params came with its idempotencyKey before, " +
            "409 idempotency_conflict when that key came with another name or other params. " +
            "The request's traceparent (W3C Trace Context) and x-request-id headers are kept as the task's context; " +
            "an invalid one is ignored. " +
            "404 unknown_task_name for a name nobody registered; 422 invalid_params when params fail the task's schema; " +
            "503 storage_unavailable while the database cannot be written (disk full, read-only file).",
        },
      },
    )
    .get(
      "/tasks",
      async ({ kiln, query, request, set }) => {
        const page = await kiln.list({
          status: query.status,
          name: query.name,
          tag: query.tag,
          ...searchFilters(request.url, query),
          limit: query.limit,
          cursor: query.cursor,
        });
        // Encoded here, so Elysia does not check the page against TaskPage (which still documents
        // it): that check cost about 11 µs a task, 5.7 ms of a page of 500. presentTask makes every
        // field fit the schema whatever the row holds (tests/http/task-page-schema.test.ts).
        return jsonResponse(set, { items: page.items.map(presentTask), nextCursor: page.nextCursor });
      },
      {
        query: ListTasksQuery,
        response: { 200: TaskPage, 422: ErrorSchema },
        detail: {
          summary: "List tasks, newest first; pass nextCursor as cursor for the next page",
          description: SEARCH_DESCRIPTION,
        },
      },
    )
    .get(
      "/tasks/:id",
      async ({ kiln, params, set }) => {
        // Encoded here too, unchecked by Elysia: its check against TaskDetailSchema was about a third
        // of the request's time in process (tests/http/task-page-schema.test.ts checks the answers).
        return jsonResponse(set, presentTaskDetail(await kiln.findWithTree(params.id)));
      },
      {
        params: IdParams,
        response: { 200: TaskDetailSchema, 404: ErrorSchema, 409: ErrorSchema },
        detail: {
          summary: "Read one task, by its id or a unique prefix of it",
          description:
            "The id may be shortened to a prefix of at least 6 characters that no other task's id starts with. " +
            "With the task come dependsOn, waitingFor (its latest waitFor's children) and its children with their count per status. " +
            "404 task_not_found when no id matches; 409 ambiguous_id, with the number of matches, when several do.",
        },
      },
    )
    .delete(
      "/tasks/:id",
      async ({ kiln, params, status, request, server }) => {
        const by = auth.requester(request, server);
        await kiln.delete(params.id);
        logger.info("task deleted", { id: params.id, ...by });
        return status(204, undefined);
      },
      {
        params: IdParams,
        response: { 204: t.Void(), 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
        detail: { summary: "Delete an ended task with its history and logs; 409 while it is live" },
      },
    );
}
