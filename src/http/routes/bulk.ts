import { Elysia } from "elysia";
import type { Logger, TaskManager } from "../../engine/index.ts";
import type { TokenAuth } from "../auth.ts";
import { bulkBodyCheck } from "../bulk/body.ts";
import { BulkBody, BulkResultSchema } from "../bulk/schemas.ts";
import { ErrorSchema } from "../schemas.ts";

/**
 * POST /tasks/bulk: one action on many tasks, a result per task. Like a single delete, each
 * task it deletes is logged with who asked, since its history goes with it.
 */
export function bulkRoutes(manager: TaskManager, auth: TokenAuth, logger: Logger) {
  return new Elysia({ tags: ["control"] }).decorate("kiln", manager).post(
    "/tasks/bulk",
    async ({ kiln, body, request, server }) => {
      const by = auth.requester(request, server);
      const target = "ids" in body ? { ids: body.ids } : { filter: body.filter, cursor: body.cursor };
      const result = await kiln.bulk(body.action, target, { ...by, reason: body.reason ?? null });
      if (body.action === "delete") {
        for (const item of result.results) if (item.ok) logger.info("task deleted", { id: item.id, ...by });
      }
      return result;
    },
    {
      body: BulkBody,
      transform: bulkBodyCheck,
      response: { 200: BulkResultSchema, 422: ErrorSchema, 503: ErrorSchema },
      detail: {
        summary: "Pause, resume, stop, restart or delete many tasks: by ids, or those a filter matches",
        description:
          "Each task is decided as its own call would be; one that cannot be acted on (a 409, a 404) is refused in its " +
          "result, and the others go on. At most 1,000 tasks per call: a filter that matches more acts on the " +
          "newest 1,000 and answers truncated: true with a nextCursor to pass as cursor. 422 for a body that is " +
          "not exactly one of { action, ids } and { action, filter }.",
      },
    },
  );
}
