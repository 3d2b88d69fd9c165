import { verifyWebhookSignature, WEBHOOK_HEADERS } from "../../src/index.ts";

export const SECRET = "test-webhook-secret-0123456789abcdef";

/** One request the receiver got. */
export interface Received {
  id: string;
  type: string;
  taskId: string;
  to: string;
  attempt: number;
  signatureOk: boolean;
  /** The status it answered, or "hung" for a request it never answered. */
  answer: number | "hung";
}

/** What to do with a request: answer with this status, or hang without answering. */
export type Answer = number | "hang";

/**
 * A webhook receiver on 127.0.0.1 (a real HTTP server) that checks each signature and answers
 * as `decide` says, so a test can fail the first calls, one task's calls, or all of them.
 */
export function startReceiver(
  decide: (request: Omit<Received, "answer">, index: number) => Answer = () => 204,
) {
  const received: Received[] = [];
  const hung: Array<() => void> = [];
  const waiters = new Set<() => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const parsed = JSON.parse(body) as { id: string; type: string; to: string; task: { id: string } };
      const seen = {
        id: parsed.id,
        type: parsed.type,
        taskId: parsed.task.id,
        to: parsed.to,
        attempt: Number(request.headers.get(WEBHOOK_HEADERS.attempt)),
        signatureOk:
          request.headers.get(WEBHOOK_HEADERS.id) === parsed.id &&
          verifyWebhookSignature({
            secret: SECRET,
            body,
            signature: request.headers.get(WEBHOOK_HEADERS.signature),
            timestamp: request.headers.get(WEBHOOK_HEADERS.timestamp),
          }),
      };
      const answer = decide(seen, received.length);
      received.push({ ...seen, answer: answer === "hang" ? "hung" : answer });
      for (const waiter of waiters) waiter();
      if (answer === "hang") {
        return new Promise<Response>((resolve) =>
          hung.push(() => resolve(new Response(null, { status: 204 }))),
        );
      }
      return new Response(answer >= 300 ? "not now" : null, { status: answer });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hooks/kiln?token=in-the-query`,
    received,
    /** Requests answered 2xx, in the order they arrived. */
    accepted: () => received.filter((r) => typeof r.answer === "number" && r.answer < 300),
    /** Resolves once `done()` holds (checked at each request), failing after `timeoutMs`. */
    async until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
      if (done()) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`receiver: condition not met within ${timeoutMs} ms (${received.length} requests)`),
          );
        }, timeoutMs);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    releaseHung: () => {
      for (const release of hung.splice(0)) release();
    },
    stop: () => {
      for (const release of hung.splice(0)) release();
      return server.stop(true);
    },
  };
}

export type Receiver = ReturnType<typeof startReceiver>;
