import type { Logger } from "../engine/logger.ts";
import type { EndpointCounts, SharedCounts } from "./counters.ts";
import { signWebhook, WEBHOOK_HEADERS } from "./signature.ts";

/** One event waiting to reach one endpoint. */
export interface Delivery {
  /** The event's id (the same for every endpoint and every retry). */
  id: string;
  taskId: string;
  type: string;
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

export interface EndpointTuning {
  /** Events kept waiting (in flight included); when full, the oldest waiting one is dropped. */
  maxQueued: number;
  /** Requests in flight at once, each for a different task. */
  concurrency: number;
  /** A request that takes longer than this is a failure. */
  timeoutMs: number;
  /** Delay before the first retry; it doubles at each failure up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
}

/** At most one warning of each kind per endpoint in this long; the rest are counted. */
const REPORT_EVERY_MS = 10_000;

/** The delay before retry number `attempt` (1 for the first), with jitter over its upper half. */
export function retryDelayMs(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/**
 * Delivers events to one URL: at least once and, per task, in order. Each task has its own
 * queue; only its oldest event is ever in flight, and a failed one is retried (exponential
 * backoff) before any later event of the same task is sent. Other tasks' events go on
 * meanwhile, up to `concurrency` requests at once. The queues share a bound: past it, the oldest
 * waiting event is dropped and counted.
 */
export class WebhookEndpoint {
  readonly #byTask = new Map<string, Delivery[]>();
  /** Every waiting event, oldest first (for dropping the oldest). */
  readonly #all = new Set<Delivery>();
  /** Tasks whose oldest event may be sent now, in the order they became ready. */
  readonly #ready = new Set<string>();
  readonly #inFlight = new Map<string, AbortController>();
  readonly #retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #idleWaiters = new Set<() => void>();
  #failing = false;
  #lastFailureReport = Number.NEGATIVE_INFINITY;
  #failuresUnreported = 0;
  #lastDropReport = Number.NEGATIVE_INFINITY;
  #dropsUnreported = 0;
  #closed = false;

  constructor(
    readonly url: string,
    /** Its position among the configured URLs, from 0; logs and metrics name it from 1. */
    readonly index: number,
    private readonly secret: string,
    private readonly tuning: EndpointTuning,
    private readonly logger: Logger,
    private readonly shared: SharedCounts,
  ) {}

  get label(): string {
    return String(this.index + 1);
  }

  /** Where it points, without a path or query that may hold a secret. */
  get origin(): string {
    return new URL(this.url).origin;
  }

  counts(): EndpointCounts {
    return this.shared.read(this.index);
  }

  #count(field: "ok" | "failed" | "dropped", by = 1): void {
    this.shared.add(this.index, field, by);
  }

  #queuedChanged(): void {
    this.shared.setQueued(this.index, this.#all.size);
  }

  enqueue(delivery: Delivery): void {
    if (this.#closed) return;
    if (this.#all.size >= this.tuning.maxQueued) this.#dropOldest();
    let queue = this.#byTask.get(delivery.taskId);
    if (!queue) {
      queue = [];
      this.#byTask.set(delivery.taskId, queue);
    }
    queue.push(delivery);
    this.#all.add(delivery);
    this.#queuedChanged();
    if (queue.length === 1) this.#ready.add(delivery.taskId);
    this.#pump();
  }

  /** Resolves once nothing waits, or after `timeoutMs`; true when nothing waits. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#all.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve(this.#all.size === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  /** Stops at once: cancels retries and requests in flight; what still waits is dropped and counted. */
  close(): number {
    this.#closed = true;
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    for (const controller of this.#inFlight.values()) controller.abort();
    const left = this.#all.size;
    this.#count("dropped", left);
    this.#all.clear();
    this.#queuedChanged();
    this.#byTask.clear();
    this.#ready.clear();
    this.#notifyIfIdle();
    return left;
  }

  #pump(): void {
    for (const taskId of this.#ready) {
      if (this.#inFlight.size >= this.tuning.concurrency) return;
      this.#ready.delete(taskId);
      const head = this.#byTask.get(taskId)?.[0];
      if (head) void this.#send(head);
    }
  }

  async #send(delivery: Delivery): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.set(delivery.taskId, controller);
    delivery.attempts++;
    let failure: string | undefined;
    const timeout = setTimeout(() => controller.abort(), this.tuning.timeoutMs);
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(this.url, {
        method: "POST",
        body: delivery.body,
        // A redirect is not followed (it would turn the POST into a GET): it counts as a failure.
        redirect: "manual",
        signal: controller.signal,
        headers: {
          "content-type": "application/json",
          "user-agent": "kiln-webhooks",
          [WEBHOOK_HEADERS.signature]: signWebhook(this.secret, timestamp, delivery.body),
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.id]: delivery.id,
          [WEBHOOK_HEADERS.type]: delivery.type,
          [WEBHOOK_HEADERS.attempt]: String(delivery.attempts),
        },
      });
      // Read to the end, so the connection can carry the next request.
      await response.arrayBuffer();
      if (response.status < 200 || response.status > 299) failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = controller.signal.aborted
        ? `no answer within ${this.tuning.timeoutMs} ms`
        : `network error: ${(error as Error).message}`;
    } finally {
      clearTimeout(timeout);
      this.#inFlight.delete(delivery.taskId);
    }
    if (this.#closed) return;
    if (failure === undefined) this.#delivered(delivery);
    else this.#failed(delivery, failure);
    this.#pump();
  }

  #delivered(delivery: Delivery): void {
    this.#count("ok");
    this.#all.delete(delivery);
    this.#queuedChanged();
    // A head in flight is never dropped: it is still its task's first event.
    const queue = this.#byTask.get(delivery.taskId);
    queue?.shift();
    if (queue && queue.length > 0) this.#ready.add(delivery.taskId);
    else this.#byTask.delete(delivery.taskId);
    if (this.#failing) {
      this.#failing = false;
      this.logger.info("webhook deliveries succeed again", { webhook: this.label, origin: this.origin });
    }
    this.#notifyIfIdle();
  }

  #failed(delivery: Delivery, reason: string): void {
    this.#count("failed");
    this.#failing = true;
    const delay = retryDelayMs(delivery.attempts, this.tuning.retryInitialMs, this.tuning.retryMaxMs);
    const now = performance.now();
    if (now - this.#lastFailureReport >= REPORT_EVERY_MS) {
      this.#lastFailureReport = now;
      this.logger.warn("webhook delivery failed; it will be retried", {
        webhook: this.label,
        origin: this.origin,
        error: reason,
        eventId: delivery.id,
        taskId: delivery.taskId,
        attempt: delivery.attempts,
        retryInMs: delay,
        queued: this.#all.size,
        ...(this.#failuresUnreported > 0 ? { moreFailures: this.#failuresUnreported } : {}),
      });
      this.#failuresUnreported = 0;
    } else {
      this.#failuresUnreported++;
    }
    const taskId = delivery.taskId;
    this.#retryTimers.set(
      taskId,
      setTimeout(() => {
        this.#retryTimers.delete(taskId);
        if (this.#byTask.has(taskId)) this.#ready.add(taskId);
        this.#pump();
      }, delay),
    );
  }

  /** Drops the oldest event that is not in flight, to make room. */
  #dropOldest(): void {
    for (const delivery of this.#all) {
      const queue = this.#byTask.get(delivery.taskId);
      if (!queue) continue;
      const index = queue.indexOf(delivery);
      if (index === 0 && this.#inFlight.has(delivery.taskId)) continue;
      queue.splice(index, 1);
      this.#all.delete(delivery);
      this.#queuedChanged();
      this.#count("dropped");
      if (index === 0) {
        // The task's head is gone: its retry (if any) is moot; its next event becomes the head.
        const timer = this.#retryTimers.get(delivery.taskId);
        if (timer) clearTimeout(timer);
        this.#retryTimers.delete(delivery.taskId);
        if (queue.length > 0) this.#ready.add(delivery.taskId);
        else {
          this.#byTask.delete(delivery.taskId);
          this.#ready.delete(delivery.taskId);
        }
      }
      this.#reportDrop();
      return;
    }
  }

  #reportDrop(): void {
    const now = performance.now();
    if (now - this.#lastDropReport < REPORT_EVERY_MS) {
      this.#dropsUnreported++;
      return;
    }
    this.#lastDropReport = now;
    this.logger.warn("webhook queue full: dropped the oldest waiting event", {
      webhook: this.label,
      origin: this.origin,
      maxQueued: this.tuning.maxQueued,
      droppedTotal: this.counts().dropped,
      ...(this.#dropsUnreported > 0 ? { droppedSinceLastLine: this.#dropsUnreported + 1 } : {}),
    });
    this.#dropsUnreported = 0;
  }

  #notifyIfIdle(): void {
    if (this.#all.size > 0) return;
    for (const waiter of [...this.#idleWaiters]) waiter();
  }
}
