import type { EventHub, ManagerEvent } from "./events.ts";
import type { Logger } from "./logger.ts";

/** A committed change of a task's status, as `onTransition` observers receive it. */
export type TransitionEvent = Extract<ManagerEvent, { type: "transition" }>;
/** A line a task logged, as `onLog` observers receive it. */
export type LogEvent = Extract<ManagerEvent, { type: "log" }>;
/** A progress report of a task, as `onProgress` observers receive it (after its tick is written). */
export type ProgressEvent = Extract<ManagerEvent, { type: "progress" }>;

/**
 * A function told of events after they happen. It may return a promise: kiln never waits for
 * it, and a rejection is logged like a throw.
 */
export type Observer<E> = (event: E) => unknown;
export type TransitionObserver = Observer<TransitionEvent>;
export type LogObserver = Observer<LogEvent>;
export type ProgressObserver = Observer<ProgressEvent>;

/** A synchronous call longer than this is reported: observers share the engine's thread. */
const SLOW_CALL_MS = 100;
/** At most one report per observer and kind of trouble in this long; the rest are counted. */
const REPORT_EVERY_MS = 10_000;
/** Unsettled promises of one observer that make a warning (then each tenfold more). */
const PENDING_WARNING = 1_000;

/** Logs one kind of trouble of one observer at most every REPORT_EVERY_MS, counting the rest. */
class ThrottledReport {
  #lastAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
  ) {}

  report(fields: Record<string, unknown>): void {
    const now = performance.now();
    if (now - this.#lastAt < REPORT_EVERY_MS) {
      this.#suppressed++;
      return;
    }
    this.#lastAt = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.logger.error(this.message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

class Entry<E> {
  pending = 0;
  #pendingWarningAt = PENDING_WARNING;
  readonly #failures: ThrottledReport;
  readonly #slow: ThrottledReport;

  constructor(
    readonly fn: Observer<E>,
    private readonly kind: string,
    private readonly logger: Logger,
  ) {
    this.#failures = new ThrottledReport(logger, "an observer failed");
    this.#slow = new ThrottledReport(logger, "an observer blocked the engine's thread");
  }

  call(event: E): void {
    const started = performance.now();
    try {
      const result: unknown = this.fn(event);
      if (isThenable(result)) this.#watch(result);
    } catch (error) {
      this.failed(error);
    }
    const ms = performance.now() - started;
    if (ms > SLOW_CALL_MS) {
      this.#slow.report({
        observer: this.kind,
        ms: Math.round(ms),
        fix: "do slow work asynchronously; kiln does not wait for a returned promise",
      });
    }
  }

  failed(error: unknown): void {
    this.#failures.report({ observer: this.kind, error: describe(error) });
  }

  #watch(result: PromiseLike<unknown>): void {
    this.pending++;
    if (this.pending >= this.#pendingWarningAt) {
      this.logger.warn("an observer's promises are not settling; kiln does not wait for them", {
        observer: this.kind,
        pending: this.pending,
      });
      this.#pendingWarningAt *= 10;
    }
    result.then(
      () => {
        this.pending--;
      },
      (error: unknown) => {
        this.pending--;
        this.failed(error);
      },
    );
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The observers of one kind of event. */
class ObserverList<E> {
  readonly #entries = new Set<Entry<E>>();

  constructor(
    private readonly kind: string,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  add(fn: Observer<E>): () => void {
    if (typeof fn !== "function") throw new TypeError(`${this.kind} takes a function`);
    const entry = new Entry(fn, this.kind, this.logger);
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  deliver(event: E): void {
    for (const entry of this.#entries) entry.call(event);
  }
}

/**
 * The manager's observers. They hear committed events, never inside the engine's own call:
 * events are queued as the hub announces them and handed out in a microtask, after the code that
 * made them has returned. Each observer is isolated: a throw or a rejected promise is logged
 * (at most once per 10 s per observer, with a count of the rest), a returned promise is never
 * awaited, and a synchronous call over 100 ms is reported because it held the engine's thread.
 */
export class Observers {
  readonly transition: ObserverList<TransitionEvent>;
  readonly log: ObserverList<LogEvent>;
  readonly progress: ObserverList<ProgressEvent>;
  #queue: ManagerEvent[] = [];
  #scheduled = false;

  constructor(hub: EventHub, logger: Logger) {
    this.transition = new ObserverList("onTransition", logger);
    this.log = new ObserverList("onLog", logger);
    this.progress = new ObserverList("onProgress", logger);
    hub.subscribe(this.#enqueue);
  }

  #enqueue = (event: ManagerEvent): void => {
    if (this.#listFor(event)?.size) {
      this.#queue.push(event);
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#drain);
      }
    }
  };

  #drain = (): void => {
    this.#scheduled = false;
    const events = this.#queue;
    this.#queue = [];
    for (const event of events) {
      switch (event.type) {
        case "transition":
          this.transition.deliver(event);
          break;
        case "log":
          this.log.deliver(event);
          break;
        case "progress":
          this.progress.deliver(event);
          break;
      }
    }
  };

  #listFor(event: ManagerEvent): { readonly size: number } | undefined {
    switch (event.type) {
      case "transition":
        return this.transition;
      case "log":
        return this.log;
      case "progress":
        return this.progress;
      default:
        return undefined;
    }
  }
}
