import {
  type FileAccess,
  type LogLevel,
  TaskReleased,
  type TaskRuntime,
  TaskStopped,
} from "../task/index.ts";
import { HeapGuard } from "./heap-guard.ts";
import { Control, clipText, type FromWorker } from "./protocol.ts";

const RESOLVED: Promise<void> = Promise.resolve();
/** Progress reaches the main thread at most this often; the latest value always does. */
const PROGRESS_INTERVAL_MS = 50;

type Wake = "resume" | "stop" | "release";

export interface RuntimeOptions {
  /** The run's memory cap; undefined: the heap is not watched. */
  memoryLimitBytes: number | undefined;
  /**
   * In a task process the control word changes only when a message is handled, and a task
   * awaiting nothing but checkpoints never lets the event loop run: every this many ms a
   * checkpoint yields one macrotask so control messages get in. Undefined on a thread, whose
   * control word is shared memory.
   */
  yieldEveryMs: number | undefined;
  /** From the host's `init` message. */
  fileAccess: FileAccess;
}

/**
 * The runtime of one task run inside a worker: the cheap checkpoint over the shared control
 * word, coalesced progress, logs, and the wait of a paused task.
 */
export class WorkerTaskRuntime implements TaskRuntime {
  readonly signal: AbortSignal;
  readonly fileAccess: FileAccess;
  readonly #abort = new AbortController();
  #latestState: unknown;
  #lastCheckpointPost = Number.NEGATIVE_INFINITY;
  #pendingProgress: Extract<FromWorker, { type: "progress" }> | undefined;
  #lastProgressPost = Number.NEGATIVE_INFINITY;
  #progressTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: ((how: Wake) => void) | undefined;
  #stopReason = "stop requested";
  readonly #heapGuard: HeapGuard | undefined;
  readonly #yieldEveryMs: number | undefined;
  #lastYield = performance.now();

  constructor(
    readonly taskId: string,
    readonly attempt: number,
    private readonly control: Int32Array,
    private readonly post: (message: FromWorker) => void,
    private readonly checkpointIntervalMs: number,
    initialState: unknown,
    options: RuntimeOptions,
  ) {
    this.signal = this.#abort.signal;
    this.fileAccess = options.fileAccess;
    this.#latestState = initialState;
    this.#yieldEveryMs = options.yieldEveryMs;
    const limitBytes = options.memoryLimitBytes;
    if (limitBytes !== undefined) {
      this.#heapGuard = new HeapGuard(limitBytes, (usedBytes) =>
        this.post({ type: "memory", taskId: this.taskId, usedBytes, limitBytes, measured: "heap" }),
      );
    }
  }

  checkpoint(state: unknown): Promise<void> {
    if (state !== undefined) {
      this.#latestState = state;
      const now = performance.now();
      if (now - this.#lastCheckpointPost >= this.checkpointIntervalMs) {
        this.#lastCheckpointPost = now;
        this.post({ type: "checkpoint", taskId: this.taskId, state });
      }
    }
    this.#heapGuard?.poll();
    const control = Atomics.load(this.control, 0);
    if (control !== Control.NONE) return this.#onControl(control);
    if (this.#yieldEveryMs !== undefined && performance.now() - this.#lastYield >= this.#yieldEveryMs) {
      return this.#yieldThenCheck();
    }
    return RESOLVED;
  }

  async #yieldThenCheck(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#lastYield = performance.now();
    const control = Atomics.load(this.control, 0);
    if (control !== Control.NONE) await this.#onControl(control);
  }

  async #onControl(control: number): Promise<void> {
    if (control === Control.STOP) throw new TaskStopped(this.#stopReason);
    this.flushProgress();
    const woken = new Promise<Wake>((resolve) => {
      this.#wake = resolve;
    });
    this.post({ type: "paused", taskId: this.taskId, state: this.#latestState });
    const how = await woken;
    this.#wake = undefined;
    if (how === "stop") throw new TaskStopped(this.#stopReason);
    if (how === "release") throw new TaskReleased();
  }

  progress(done: number, total: number | undefined, message: string | undefined): void {
    this.#heapGuard?.poll();
    this.#pendingProgress = {
      type: "progress",
      taskId: this.taskId,
      done: Number(done),
      total: total === undefined ? undefined : Number(total),
      message: message === undefined ? undefined : clipText(String(message)),
    };
    const now = performance.now();
    if (now - this.#lastProgressPost >= PROGRESS_INTERVAL_MS) {
      this.flushProgress();
    } else if (!this.#progressTimer) {
      // A task awaiting I/O stops calling progress(); the timer delivers its last value.
      this.#progressTimer = setTimeout(() => this.flushProgress(), PROGRESS_INTERVAL_MS);
    }
  }

  /** Sends the latest progress now; called before any message that ends or pauses the run. */
  flushProgress(): void {
    if (this.#progressTimer) {
      clearTimeout(this.#progressTimer);
      this.#progressTimer = undefined;
    }
    const pending = this.#pendingProgress;
    if (!pending) return;
    this.#pendingProgress = undefined;
    this.#lastProgressPost = performance.now();
    this.post(pending);
  }

  log(level: LogLevel, message: string): void {
    this.#heapGuard?.poll();
    this.post({
      type: "log",
      taskId: this.taskId,
      level,
      message: clipText(String(message)),
      at: Date.now(),
    });
  }

  request(action: "pause" | "stop" | "restart", reason: string | undefined): void {
    this.post({
      type: "request",
      taskId: this.taskId,
      action,
      reason: reason === undefined ? undefined : clipText(reason),
    });
  }

  /** The main thread woke a paused task (the control word is NONE again). */
  resume(): void {
    this.#wake?.("resume");
  }

  /** The main thread asked for a stop: abort the signal and wake the task if it is paused. */
  stop(reason: string): void {
    this.#stopReason = reason;
    this.#abort.abort(new TaskStopped(reason));
    this.#wake?.("stop");
  }

  /** The main thread takes the worker back from a paused task. */
  release(): void {
    this.#wake?.("release");
  }

  dispose(): void {
    if (this.#progressTimer) clearTimeout(this.#progressTimer);
    this.#heapGuard?.dispose();
  }
}
