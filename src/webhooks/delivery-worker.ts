// The webhook delivery thread: its requests, signatures, timers and retries stay off the engine's
// thread, which only builds each event's body and posts it here, once per turn of its event loop.
import type { Logger } from "../engine/logger.ts";
import { SharedCounts } from "./counters.ts";
import { WebhookEndpoint } from "./endpoint.ts";
import type { FromDelivery, ToDelivery } from "./messages.ts";

declare const self: Worker;

const post = (message: FromDelivery) => self.postMessage(message);

/** Lines go to the engine's logger, on the engine's thread. */
const logger: Logger = {
  debug: (message, fields = {}) => post({ type: "log", level: "debug", message, fields }),
  info: (message, fields = {}) => post({ type: "log", level: "info", message, fields }),
  warn: (message, fields = {}) => post({ type: "log", level: "warn", message, fields }),
  error: (message, fields = {}) => post({ type: "log", level: "error", message, fields }),
};

let endpoints: WebhookEndpoint[] = [];

async function settle(timeoutMs: number): Promise<boolean> {
  const results = await Promise.all(endpoints.map((endpoint) => endpoint.idle(timeoutMs)));
  return results.every(Boolean);
}

self.onmessage = async (event: MessageEvent<ToDelivery>) => {
  const message = event.data;
  switch (message.type) {
    case "start": {
      const counts = new SharedCounts(message.urls.length, message.counts);
      endpoints = message.urls.map(
        (url, index) => new WebhookEndpoint(url, index, message.secret, message.tuning, logger, counts),
      );
      break;
    }
    case "events":
      for (const queued of message.events) {
        for (const endpoint of endpoints) endpoint.enqueue({ ...queued, attempts: 0 });
      }
      break;
    case "idle":
      post({ type: "settled", request: message.request, idle: await settle(message.timeoutMs), left: 0 });
      break;
    case "close": {
      const idle = await settle(message.graceMs);
      const left = endpoints.reduce((sum, endpoint) => sum + endpoint.close(), 0);
      post({ type: "settled", request: message.request, idle, left });
      break;
    }
  }
};
