import { type Logger, stderrLogger } from "../engine/logger.ts";
import type { TransitionEvent } from "../engine/observers.ts";
import { type EndpointCounts, type EndpointTuning, WebhookEndpoint } from "./endpoint.ts";
import { renderWebhookMetrics } from "./metrics.ts";
import { checkWebhookOptions, positiveInteger, WebhookConfigError } from "./options.ts";
import { webhookBody, webhookEventType } from "./payload.ts";

export interface WebhookOptions {
  /** Where each transition is POSTed (http or https). */
  urls: readonly string[];
  /** Signs each delivery (HMAC-SHA256); at least 16 characters. */
  secret: string;
  /** Where failures, drops and recoveries are reported (default: stderr). */
  logger?: Logger;
  /** Events kept per URL, in flight included (default 10,000); past it the oldest waiting is dropped. */
  maxQueued?: number;
  /** Requests in flight at once per URL, each for a different task (default 8). */
  concurrency?: number;
  /** A request without an answer after this long failed (default 10 s). */
  timeoutMs?: number;
  /** Delay before the first retry of an event (default 1 s); it doubles at each failure… */
  retryInitialMs?: number;
  /** …up to this (default 60 s). */
  retryMaxMs?: number;
}

function tuning(options: WebhookOptions): EndpointTuning {
  const concurrency = positiveInteger(options.concurrency, 8, "concurrency");
  const maxQueued = positiveInteger(options.maxQueued, 10_000, "maxQueued");
  if (maxQueued <= concurrency) throw new WebhookConfigError("maxQueued must be larger than concurrency");
  const retryInitialMs = positiveInteger(options.retryInitialMs, 1_000, "retryInitialMs");
  return {
    maxQueued,
    concurrency,
    timeoutMs: positiveInteger(options.timeoutMs, 10_000, "timeoutMs"),
    retryInitialMs,
    retryMaxMs: Math.max(retryInitialMs, positiveInteger(options.retryMaxMs, 60_000, "retryMaxMs")),
  };
}

/** What `counts()` reports per URL. */
export interface WebhookCounts extends EndpointCounts {
  /** The URL's position among those configured, from 1 (metrics and logs name it so). */
  webhook: string;
  origin: string;
}

/**
 * POSTs every task transition to each configured URL as signed JSON, never holding the engine
 * up: register `onTransition` with the manager (or call `attach(manager)`). Each URL has its own
 * bounded queue, retries and counters (see WebhookEndpoint); `close()` gives what waits a grace
 * period at shutdown.
 */
export class WebhookDispatcher {
  readonly #endpoints: WebhookEndpoint[];
  #closed = false;

  constructor(options: WebhookOptions) {
    checkWebhookOptions(options.urls, options.secret);
    const settings = tuning(options);
    const logger = options.logger ?? stderrLogger;
    this.#endpoints = options.urls.map(
      (url, index) => new WebhookEndpoint(url, String(index + 1), options.secret, settings, logger),
    );
  }

  /** The observer to register: `manager.onTransition(dispatcher.onTransition)`. */
  readonly onTransition = (event: TransitionEvent): void => {
    if (this.#closed) return;
    const id = Bun.randomUUIDv7();
    const body = webhookBody(id, event);
    const type = webhookEventType(event);
    for (const endpoint of this.#endpoints) {
      endpoint.enqueue({ id, taskId: event.task.id, type, body, attempts: 0 });
    }
  };

  /** Registers with the manager; returns the unsubscribe function. */
  attach(manager: { onTransition(observer: (event: TransitionEvent) => unknown): () => void }): () => void {
    return manager.onTransition(this.onTransition);
  }

  counts(): WebhookCounts[] {
    return this.#endpoints.map((endpoint) => ({
      webhook: endpoint.label,
      origin: endpoint.origin,
      ...endpoint.counts(),
    }));
  }

  /** Resolves once every URL's queue is empty (true) or after `timeoutMs` (false). */
  async idle(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(this.#endpoints.map((endpoint) => endpoint.idle(timeoutMs)));
    return results.every(Boolean);
  }

  /**
   * Takes no new events, waits up to `graceMs` for what is queued to be delivered, then cancels
   * the rest; resolves with how many events were left undelivered (summed over the URLs).
   */
  async close(graceMs = 5_000): Promise<number> {
    this.#closed = true;
    await this.idle(graceMs);
    return this.#endpoints.reduce((left, endpoint) => left + endpoint.close(), 0);
  }

  /** The `kiln_webhook_*` lines of `/metrics`. */
  metricLines(): string[] {
    return renderWebhookMetrics(this.counts());
  }
}
