import { Elysia, t } from "elysia";
import type { ManagerEvent, TaskManager } from "../../engine/index.ts";
import { createEventStream, type SseFrame } from "../event-stream.ts";
import { eventTaskId, presentManagerEvent } from "../presenters.ts";
import { StreamQuery } from "../schemas.ts";

export interface StreamOptions {
  maxQueuedEvents: number;
  heartbeatMs: number;
  /** Aborted when the server shuts down: every open stream ends with a final `shutdown` event. */
  shutdownSignal?: AbortSignal | undefined;
}

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

function toFrame(event: ManagerEvent): SseFrame {
  return { event: event.type, data: presentManagerEvent(event), droppable: event.type === "progress" };
}

/** GET /events: the manager's events as Server-Sent Events, optionally for one task. */
export function streamRoutes(manager: TaskManager, options: StreamOptions) {
  return new Elysia({ tags: ["events"] }).decorate("kiln", manager).get(
    "/events",
    ({ kiln, query, request, server }) => {
      // HEAD gets the head alone: with an endless body Bun would never finish the answer.
      if (request.method === "HEAD") return new Response(null, { headers: STREAM_HEADERS });
      // A stream is idle between events; Bun's idle timeout (10 s) must not cut it.
      server?.timeout(request, 0);
      const only = query.task;
      const body = createEventStream({
        maxQueued: options.maxQueuedEvents,
        heartbeatMs: options.heartbeatMs,
        signal: request.signal,
        ...(options.shutdownSignal ? { shutdown: options.shutdownSignal } : {}),
        subscribe: (push) =>
          kiln.subscribe((event) => {
            if (only === undefined || eventTaskId(event) === only) push(toFrame(event));
          }),
      });
      return new Response(body, { headers: STREAM_HEADERS });
    },
    {
      query: StreamQuery,
      response: {
        200: t.String({
          description:
            "text/event-stream: each event is named transition, request, progress or log, with JSON data; " +
            "a slow client gets a final overflow event and is disconnected; when the server shuts down " +
            'every stream ends with a final shutdown event ({"message":"the server is shutting down"})',
        }),
      },
      detail: { summary: "Live stream of task events (Server-Sent Events)" },
    },
  );
}
