import { Elysia } from "elysia";
import type { TaskManager } from "../../engine/index.ts";
import { HealthSchema, NotReadySchema, ReadySchema } from "../schemas.ts";

/**
 * Probes: `/health` answers while the process serves; `/ready` once the manager has started
 * and while its database file is usable.
 */
export function healthRoutes(manager: TaskManager) {
  return new Elysia({ tags: ["probes"] })
    .decorate("kiln", manager)
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: HealthSchema },
      detail: { summary: "Liveness probe" },
    })
    .get(
      "/ready",
      ({ kiln, status }) => {
        const readiness = kiln.readiness();
        return readiness.ready
          ? status(200, { status: "ready" as const })
          : status(503, { status: "not_ready" as const, reason: readiness.reason });
      },
      {
        response: { 200: ReadySchema, 503: NotReadySchema },
        detail: {
          summary:
            "Readiness probe: 503 with the reason until kiln has started, while it shuts down, and once its database file is damaged, deleted or replaced",
        },
      },
    );
}
