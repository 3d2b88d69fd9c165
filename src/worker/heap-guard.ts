import { heapSize } from "bun:jsc";

/** How often a running task's heap is looked at from the event loop. */
const TIMER_INTERVAL_MS = 100;
/**
 * How often a call into the runtime (`checkpoint()`, `progress()`, `log()`) may look at it:
 * heapSize() costs about 0.3 µs, a full GC far more.
 */
const POLL_INTERVAL_MS = 25;
/** After a full GC brought the heap back under the cap, wait this long before the next look. */
const AFTER_GC_PAUSE_MS = 250;

/**
 * Watches the JavaScript heap of the run on this thread and reports once when it is over the
 * run's cap; the main thread then terminates the worker (which frees its whole heap).
 *
 * What Bun 1.4.5 offers, measured with probes:
 * - `Worker` ignores `resourceLimits`, and nothing on the main thread can read a worker's heap:
 *   `process.memoryUsage()` and `bun:jsc` `memoryUsage()` describe the whole process.
 * - `bun:jsc` `heapSize()` called inside a worker is that worker's own VM (the main thread's
 *   reads near 0 while a worker holds 256 MB). It includes ArrayBuffer and typed-array
 *   storage, and garbage not yet collected, hence the full GC before reporting.
 * - A worker in a synchronous loop runs no timers and handles no messages, so it can only be
 *   measured where it calls into the runtime (`checkpoint()`, `progress()`, `log()`). A loop
 *   that never does, or one huge allocation, is out of reach on a thread;
 *   `isolation = "process"` covers those.
 * - `worker.terminate()` does interrupt a synchronous allocation loop, and the process's
 *   resident size falls back once the worker is gone.
 */
export class HeapGuard {
  #nextLook = 0;
  #reported = false;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly limitBytes: number,
    private readonly report: (usedBytes: number) => void,
  ) {
    this.#timer = setInterval(() => this.#look(), TIMER_INTERVAL_MS);
  }

  /** Called from the task's calls into the runtime: looks at most every few milliseconds. */
  poll(): void {
    if (performance.now() >= this.#nextLook) this.#look();
  }

  #look(): void {
    if (this.#reported) return;
    this.#nextLook = performance.now() + POLL_INTERVAL_MS;
    if (heapSize() <= this.limitBytes) return;
    // Only live objects count: a task that churns garbage is not a runaway.
    Bun.gc(true);
    const used = heapSize();
    if (used <= this.limitBytes) {
      this.#nextLook = performance.now() + AFTER_GC_PAUSE_MS;
      return;
    }
    this.#reported = true;
    clearInterval(this.#timer);
    this.report(used);
  }

  dispose(): void {
    clearInterval(this.#timer);
  }
}
