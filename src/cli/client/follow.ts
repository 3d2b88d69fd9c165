import { SHUTDOWN_EVENT } from "../../http/event-stream.ts";
import type { TaskJson } from "../../http/presenters.ts";
import { isFinalStatus } from "../../task/status.ts";
import { ApiError, CliError, ConnectionError } from "./errors.ts";
import type { KilnClient } from "./http.ts";
import { readSse, type SseEvent } from "./sse.ts";

/** One `/events` frame: `transition`, `request`, `progress` or `log`, with its JSON data. */
export interface StreamFrame {
  event: string;
  data: unknown;
}

export interface FollowHandlers {
  /**
   * The task as it is right after each (re)subscription, and once more in its final state.
   * The stream is already open when this runs, so nothing after the read can be missed;
   * what happened before it is for the handler to fetch (logs do).
   */
  sync(task: TaskJson): Promise<void> | void;
  /** Every frame, in order, between syncs. */
  frame(frame: StreamFrame): void;
}

/**
 * The server announced its shutdown on the stream: following stops there (exit 1) rather than
 * reconnecting to a server that is going away.
 */
export class ServerShutdownError extends CliError {}

/** Reconnects in a row with no frame in between before giving up. */
const MAX_RECONNECTS = 5;

export function getTask(client: KilnClient, id: string): Promise<TaskJson> {
  return client.request<TaskJson>("GET", `/tasks/${encodeURIComponent(id)}`).then((answer) => answer.body);
}

function parseFrame(event: string, data: string): StreamFrame {
  try {
    return { event, data: JSON.parse(data) as unknown };
  } catch {
    throw new ApiError(200, "bad_response", `the event stream sent a "${event}" frame that is not JSON`);
  }
}

/** The task in a transition frame when that transition ended it. */
function endedTask(frame: StreamFrame): TaskJson | undefined {
  if (frame.event !== "transition") return undefined;
  const task = (frame.data as { task?: TaskJson }).task;
  return task && isFinalStatus(task.status) ? task : undefined;
}

/**
 * Follows one task over `GET /events?task=<id>` until it reaches a final status and resolves
 * with that state. A stream that drops or overflows is reopened, and the handler re-syncs; a
 * `shutdown` event ends the follow with a ServerShutdownError.
 */
export async function followTask(
  client: KilnClient,
  id: string,
  handlers: FollowHandlers,
): Promise<TaskJson> {
  let reconnects = 0;
  for (;;) {
    const controller = new AbortController();
    try {
      const body = await client.stream("/events", { task: id }, controller.signal);
      const task = await getTask(client, id);
      await handlers.sync(task);
      if (isFinalStatus(task.status)) return task;
      const events = readSse(body);
      try {
        for (;;) {
          let next: IteratorResult<SseEvent>;
          try {
            next = await events.next();
          } catch {
            // A dropped connection mid-stream: reconnect below, which reports a server that is gone.
            break;
          }
          if (next.done) break;
          reconnects = 0;
          // The server cut us off for reading too slowly; reopening and re-syncing catches up.
          if (next.value.event === "overflow") break;
          if (next.value.event === SHUTDOWN_EVENT) {
            throw new ServerShutdownError(
              `the server is shutting down (${client.base}); stopped following task ${id}, ` +
                "which the server restores when it starts again",
            );
          }
          const frame = parseFrame(next.value.event, next.value.data);
          handlers.frame(frame);
          const ended = endedTask(frame);
          if (ended) {
            await handlers.sync(ended);
            return ended;
          }
        }
      } finally {
        await events.return(undefined);
      }
    } finally {
      controller.abort();
    }
    reconnects++;
    if (reconnects > MAX_RECONNECTS) {
      throw new ConnectionError(`the event stream from ${client.base} keeps closing; giving up`);
    }
    await Bun.sleep(Math.min(2_000, 100 * 2 ** reconnects));
  }
}
