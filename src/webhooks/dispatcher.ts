import { type Logger, stderrLogger } from "../engine/logger.ts";
import type { TransitionEvent } from "../engine/observers.ts";
import { type EndpointCounts, SharedCounts } from "./counters.ts";
import type { EndpointTuning } from "./endpoint.ts";
import type { FromDelivery, QueuedEvent, ToDelivery } from "./messages.ts";
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
  /** The delivery thread's entrypoint (default: kiln's own; a compiled executable passes its path). */
  workerUrl?: string | URL;
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

/** How much longer than its own time limit an answer from the delivery thread is awaited. */
const ANSWER_MARGIN_MS = 2_000;

/** The delivery thread's entrypoint, from source (a compiled kiln passes its own). */
const DELIVERY_WORKER_URL = new URL("./delivery-worker.ts", import.meta.url);

/**
 * POSTs every task transition to each configured URL as signed JSON, never holding the engine
 * up: register `onTransition` with the manager (or call `attach(manager)`). The engine's thread
 * only builds each event's body; the requests, signatures, retries and queues (one bounded queue
 * per URL, in order per task: see WebhookEndpoint) live on a thread of their own. `close()`
 * gives what waits a grace period at shutdown.
 */
export class WebhookDispatcher {
  readonly #origins: string[];
  readonly #counts: SharedCounts;
  readonly #worker: Worker;
  readonly #logger: Logger;
  readonly #replies = new Map<number, (reply: { idle: boolean; left: number }) => void>();
  #nextRequest = 1;
  #batch: QueuedEvent[] = [];
  #closed = false;
  /** The delivery thread died: nothing will answer. */
  #failed = false;

  constructor(options: WebhookOptions) {
    checkWebhookOptions(options.urls, options.secret);
    const settings = tuning(options);
    this.#logger = options.logger ?? stderrLogger;
    this.#origins = options.urls.map((url) => new URL(url).origin);
    this.#counts = new SharedCounts(options.urls.length);
    // Unref'd: it must not keep a process alive that has nothing else to do (close() waits for it).
    this.#worker = new Worker(options.workerUrl ?? DELIVERY_WORKER_URL, { ref: false, smol: true });
    this.#worker.onmessage = (event: MessageEvent<FromDelivery>) => this.#onMessage(event.data);
    this.#worker.onerror = (event) => {
      this.#failed = true;
      this.#logger.error("the webhook delivery thread failed; events are no longer delivered", {
        error: event.message,
      });
      for (const answer of [...this.#replies.values()]) answer(this.#unanswered());
    };
    this.#post({
      type: "start",
      urls: [...options.urls],
      secret: options.secret,
      tuning: settings,
      counts: this.#counts.buffer,
    });
  }

  /** The observer to register: `manager.onTransition(dispatcher.onTransition)`. */
  readonly onTransition = (event: TransitionEvent): void => {
    if (this.#closed) return;
    const id = Bun.randomUUIDv7();
    this.#batch.push({
      id,
      taskId: event.task.id,
      type: webhookEventType(event),
      body: webhookBody(id, event),
    });
    // One message per turn for every event of that turn.
    if (this.#batch.length === 1) queueMicrotask(this.#flush);
  };

  /** Registers with the manager; returns the unsubscribe function. */
  attach(manager: { onTransition(observer: (event: TransitionEvent) => unknown): () => void }): () => void {
    return manager.onTransition(this.onTransition);
  }

  counts(): WebhookCounts[] {
    return this.#origins.map((origin, index) => ({
      webhook: String(index + 1),
      origin,
      ...this.#counts.read(index),
    }));
  }

  /** Resolves once every URL's queue is empty (true) or after `timeoutMs` (false). */
  async idle(timeoutMs: number): Promise<boolean> {
    return (await this.#request({ type: "idle", request: 0, timeoutMs })).idle;
  }

  /**
   * Takes no new events, waits up to `graceMs` for what is queued to be delivered, then cancels
   * the rest and ends the delivery thread; resolves with how many events were left undelivered
   * (summed over the URLs). Idempotent.
   */
  async close(graceMs = 5_000): Promise<number> {
    if (this.#closed) return 0;
    this.#closed = true;
    const { left } = await this.#request({ type: "close", request: 0, graceMs });
    this.#worker.terminate();
    return left;
  }

  /** The `kiln_webhook_*` lines of `/metrics`. */
  metricLines(): string[] {
    return renderWebhookMetrics(this.counts());
  }

  #flush = (): void => {
    const events = this.#batch;
    if (events.length === 0) return;
    this.#batch = [];
    this.#post({ type: "events", events });
  };

  #post(message: ToDelivery): void {
    this.#worker.postMessage(message);
  }

  #request(
    message: Extract<ToDelivery, { type: "idle" | "close" }>,
  ): Promise<{ idle: boolean; left: number }> {
    this.#flush();
    if (this.#failed) return Promise.resolve(this.#unanswered());
    const request = this.#nextRequest++;
    // Held while an answer is awaited, so the process lives to receive it.
    this.#hold(true);
    return new Promise((resolve) => {
      // A thread that cannot answer (stuck, or gone) must not hold a shutdown up.
      const waitMs = (message.type === "idle" ? message.timeoutMs : message.graceMs) + ANSWER_MARGIN_MS;
      const timer = setTimeout(() => this.#replies.get(request)?.(this.#unanswered()), waitMs);
      this.#replies.set(request, (reply) => {
        clearTimeout(timer);
        this.#replies.delete(request);
        if (this.#replies.size === 0) this.#hold(false);
        resolve(reply);
      });
      this.#post({ ...message, request });
    });
  }

  /** What a request resolves with when the thread did not answer: what the counts say is left. */
  #unanswered(): { idle: boolean; left: number } {
    return { idle: false, left: this.counts().reduce((sum, count) => sum + count.queued, 0) };
  }

  #hold(held: boolean): void {
    // Bun's Worker has ref() and unref(); the global Worker type does not declare them.
    const worker = this.#worker as unknown as { ref(): void; unref(): void };
    if (held) worker.ref();
    else worker.unref();
  }

  #onMessage(message: FromDelivery): void {
    if (message.type === "log") this.#logger[message.level](message.message, message.fields);
    else this.#replies.get(message.request)?.(message);
  }
}
