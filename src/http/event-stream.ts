/** One Server-Sent Event waiting to be written to a client. */
export interface SseFrame {
  event: string;
  data: unknown;
  /** Progress ticks are dropped first when a client falls behind: a later one supersedes them. */
  droppable: boolean;
}

export interface EventStreamOptions {
  /** Frames queued for a slow client before progress is dropped and then the client is cut off. */
  maxQueued: number;
  /** A comment line is sent this often so proxies keep an idle connection open. */
  heartbeatMs: number;
  /** Called once with a push function; returns the function that stops the feed. */
  subscribe: (push: (frame: SseFrame) => void) => () => void;
  /** The client went away (the request's signal). */
  signal?: AbortSignal;
  /** The server is shutting down: the client gets a final `shutdown` event and the stream ends. */
  shutdown?: AbortSignal;
}

/** The last event of every open stream when the server shuts down; clients stop reading there. */
export const SHUTDOWN_EVENT = "shutdown";
export const SHUTDOWN_MESSAGE = "the server is shutting down";

const encoder = new TextEncoder();

export function encodeFrame(frame: Pick<SseFrame, "event" | "data">): Uint8Array {
  return encoder.encode(`event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`);
}

/**
 * A text/event-stream body with a bounded per-client queue. The stream is pulled, so a client
 * that reads slowly leaves frames here (not in socket buffers without limit); past `maxQueued`
 * the oldest progress frames go first, and if the queue is still full the client gets a final
 * `overflow` event and is disconnected. Memory per client never exceeds `maxQueued` frames.
 * When `shutdown` is aborted every stream ends with a final `shutdown` event, so the server's
 * stop is not held open by clients that would otherwise read forever.
 */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const queue: Uint8Array[] = [];
  const droppable: boolean[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let final: Uint8Array | undefined;
  let unsubscribe: (() => void) | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };

  const finish = (last?: Uint8Array) => {
    if (closed) return;
    closed = true;
    final = last;
    queue.length = 0;
    droppable.length = 0;
    unsubscribe?.();
    if (heartbeat) clearInterval(heartbeat);
    options.signal?.removeEventListener("abort", onAbort);
    options.shutdown?.removeEventListener("abort", onShutdown);
    notify();
  };
  const onAbort = () => finish();
  const onShutdown = () =>
    finish(encodeFrame({ event: SHUTDOWN_EVENT, data: { message: SHUTDOWN_MESSAGE } }));

  const push = (frame: SseFrame) => {
    if (closed) return;
    if (queue.length >= options.maxQueued) {
      const oldest = droppable.indexOf(true);
      if (oldest === -1 && frame.droppable) return; // nothing older to give up: skip this tick
      if (oldest === -1) {
        finish(
          encodeFrame({
            event: "overflow",
            data: { message: `the client fell more than ${options.maxQueued} events behind; reconnect` },
          }),
        );
        return;
      }
      queue.splice(oldest, 1);
      droppable.splice(oldest, 1);
    }
    queue.push(encodeFrame(frame));
    droppable.push(frame.droppable);
    notify();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (options.signal?.aborted) {
          closed = true;
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(": connected\n\n"));
        // Opened as the server began to shut down: the client hears so and is let go at once.
        if (options.shutdown?.aborted) {
          onShutdown();
          return;
        }
        options.signal?.addEventListener("abort", onAbort, { once: true });
        options.shutdown?.addEventListener("abort", onShutdown, { once: true });
        unsubscribe = options.subscribe(push);
        heartbeat = setInterval(() => {
          if (queue.length === 0 && !closed) {
            queue.push(encoder.encode(": heartbeat\n\n"));
            droppable.push(true);
            notify();
          }
        }, options.heartbeatMs);
      },
      async pull(controller) {
        while (queue.length === 0 && !closed) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        if (closed) {
          try {
            if (final) controller.enqueue(final);
            controller.close();
          } catch {
            // Already cancelled by the client: nothing left to write.
          }
          final = undefined;
          return;
        }
        droppable.shift();
        controller.enqueue(queue.shift() as Uint8Array);
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 0 },
  );
}
