import {
  type ChildOutcome,
  type FileAccess,
  type LogLevel,
  SpawnError,
  type TaskContext,
  TaskReleased,
  type TaskRuntime,
  TaskStopped,
  TaskSuspended,
  TaskValueError,
  type ValueLimits,
  WaitForError,
} from "../task/index.ts";
import { LIMIT_FLAGS, toJsonText } from "../task/json-value.ts";
import { checkProgress, logArguments, progressMessage, reasonArgument } from "./call-arguments.ts";
import { HeapGuard } from "./heap-guard.ts";
import { Control, type FromWorker, MAX_SPAWN_CHILDREN, type ToWorker } from "./protocol.ts";

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
  /** What the run may store (see task/json-value.ts). */
  limits: ValueLimits;
  /** The request context the task was created with; frozen here, so `this.context` is read only. */
  context: TaskContext;
  parentId: string | undefined;
  /** From the host's `init` message. */
  fileAccess: FileAccess;
}

type SpawnAnswer = Extract<ToWorker, { type: "spawned" | "spawn-refused" }>;
type WaitAnswer = Extract<ToWorker, { type: "wait-over" | "wait-refused" | "wait-suspend" }>;

/** Most ids one waitFor call may name (as src/flow/fan-in.ts checks them again). */
const MAX_WAIT_FOR_IDS = 10_000;

interface PendingWait {
  resolve: (outcomes: ChildOutcome[]) => void;
  reject: (error: Error) => void;
}

interface PendingSpawn {
  resolve: (ids: string[]) => void;
  reject: (error: Error) => void;
}

/**
 * The runtime of one task run inside a worker: the cheap checkpoint over the shared control
 * word, coalesced progress, logs, and the wait of a paused task.
 */
export class WorkerTaskRuntime implements TaskRuntime {
  readonly signal: AbortSignal;
  readonly context: TaskContext;
  readonly parentId: string | undefined;
  readonly fileAccess: FileAccess;
  readonly #abort = new AbortController();
  readonly #spawns = new Map<number, PendingSpawn>();
  #nextSpawnCall = 1;
  readonly #waits = new Map<number, PendingWait>();
  #nextWaitCall = 1;
  #suspended = false;
  #latestState: unknown;
  #lastCheckpointPost = Number.NEGATIVE_INFINITY;
  // The latest progress not sent yet, in fields rather than a message object: a task may call
  // progress() millions of times a second, and an object a call is garbage the worker's
  // collector then has to keep up with.
  #hasPendingProgress = false;
  #pendingDone = 0;
  #pendingTotal: number | undefined;
  #pendingMessage: string | undefined;
  #lastProgressPost = Number.NEGATIVE_INFINITY;
  #progressTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: ((how: Wake) => void) | undefined;
  #stopReason = "stop requested";
  readonly #heapGuard: HeapGuard | undefined;
  readonly #yieldEveryMs: number | undefined;
  #lastYield = performance.now();
  readonly #limits: ValueLimits;
  #refused: TaskValueError | undefined;

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
    this.context = Object.freeze({ ...options.context });
    this.parentId = options.parentId;
    this.fileAccess = options.fileAccess;
    this.#latestState = initialState;
    this.#yieldEveryMs = options.yieldEveryMs;
    this.#limits = options.limits;
    const limitBytes = options.memoryLimitBytes;
    if (limitBytes !== undefined) {
      this.#heapGuard = new HeapGuard(limitBytes, (usedBytes) =>
        this.post({ type: "memory", taskId: this.taskId, usedBytes, limitBytes, measured: "heap" }),
      );
    }
  }

  /**
   * The first checkpoint state kiln refused (not JSON, or over its limit). The `checkpoint()` call
   * that sent it threw; the run fails with it even if the task caught that and went on, since
   * its resume point could not be saved.
   */
  get refused(): TaskValueError | undefined {
    return this.#refused;
  }

  /**
   * The engine told a `waitFor` to suspend the run: it ends as "suspended" however it unwinds,
   * and any later checkpoint, spawn or waitFor throws `TaskSuspended` again.
   */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** The last state given to `checkpoint()`, as JSON text for the suspension's save. */
  latestStateJson(): string | undefined {
    return this.#latestState === undefined ? undefined : this.#stateText(this.#latestState);
  }

  /** A state as JSON text; a state kiln cannot store is remembered and thrown. */
  #stateText(state: unknown): string {
    try {
      return toJsonText(state, {
        what: "checkpoint state",
        maxBytes: this.#limits.maxCheckpointBytes,
        flag: LIMIT_FLAGS.maxCheckpointBytes,
      });
    } catch (error) {
      if (error instanceof TaskValueError) this.#refused ??= error;
      throw error;
    }
  }

  checkpoint(state: unknown): Promise<void> {
    if (this.#suspended) return Promise.reject(new TaskSuspended());
    if (state !== undefined) {
      this.#latestState = state;
      const now = performance.now();
      if (now - this.#lastCheckpointPost >= this.checkpointIntervalMs) {
        this.#lastCheckpointPost = now;
        // Checked only when it is sent, so a state that is not sent costs nothing.
        let stateJson: string;
        try {
          stateJson = this.#stateText(state);
        } catch (error) {
          return Promise.reject(error);
        }
        this.post({ type: "checkpoint", taskId: this.taskId, stateJson });
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
    const state = this.#latestState;
    const stateJson = state === undefined ? undefined : this.#stateText(state);
    const woken = new Promise<Wake>((resolve) => {
      this.#wake = resolve;
    });
    this.post({ type: "paused", taskId: this.taskId, stateJson });
    const how = await woken;
    this.#wake = undefined;
    if (how === "stop") throw new TaskStopped(this.#stopReason);
    if (how === "release") throw new TaskReleased();
  }

  /** Throws `TaskValueError` for arguments out of range (see checkProgress). */
  progress(done: number, total: number | undefined, message: string | undefined): void {
    this.#heapGuard?.poll();
    checkProgress(done, total);
    // Every check before any field changes: a call refused half-way must leave the last good report.
    const text = progressMessage(message);
    this.#pendingDone = done;
    this.#pendingTotal = total ?? undefined;
    this.#pendingMessage = text;
    this.#hasPendingProgress = true;
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
    if (!this.#hasPendingProgress) return;
    this.#hasPendingProgress = false;
    this.#lastProgressPost = performance.now();
    this.post({
      type: "progress",
      taskId: this.taskId,
      done: this.#pendingDone,
      total: this.#pendingTotal,
      message: this.#pendingMessage,
    });
  }

  /** Throws `TaskValueError` for an unknown level; a line over its limit is cut with a marker. */
  log(level: LogLevel, message: string): void {
    this.#heapGuard?.poll();
    const line = logArguments(level, message, this.#limits.maxLogLineBytes);
    this.post({ type: "log", taskId: this.taskId, ...line, at: Date.now() });
  }

  request(action: "pause" | "stop" | "restart", reason: string | undefined): void {
    this.post({ type: "request", taskId: this.taskId, action, reason: reasonArgument(reason, action) });
  }

  spawn(name: string, paramsList: readonly unknown[]): Promise<string[]> {
    if (this.#suspended) return Promise.reject(new TaskSuspended());
    if (typeof name !== "string" || name === "") {
      return Promise.reject(new TypeError("spawn(name, paramsList): name must be a registered task name"));
    }
    if (!Array.isArray(paramsList)) {
      return Promise.reject(
        new TypeError(
          `spawn("${name}", paramsList): paramsList must be an array, one params value per child`,
        ),
      );
    }
    if (paramsList.length === 0) return Promise.resolve([]);
    if (paramsList.length > MAX_SPAWN_CHILDREN) {
      return Promise.reject(
        new RangeError(
          `spawn("${name}"): ${paramsList.length} children in one call; at most ${MAX_SPAWN_CHILDREN}`,
        ),
      );
    }
    let paramsJson: string;
    try {
      // JSON, as a POST /tasks body would carry them: what the child gets is what a client could send.
      paramsJson = JSON.stringify(paramsList);
    } catch (thrown) {
      const why = thrown instanceof Error ? thrown.message : String(thrown);
      return Promise.reject(new TypeError(`spawn("${name}"): the params cannot be written as JSON: ${why}`));
    }
    const callId = this.#nextSpawnCall++;
    return new Promise<string[]>((resolve, reject) => {
      this.#spawns.set(callId, { resolve, reject });
      this.post({ type: "spawn", taskId: this.taskId, callId, name, paramsJson });
    });
  }

  /** The engine answered a spawn call. */
  settleSpawn(answer: SpawnAnswer): void {
    const pending = this.#spawns.get(answer.callId);
    if (!pending) return;
    this.#spawns.delete(answer.callId);
    if (answer.type === "spawned") pending.resolve(answer.ids);
    else pending.reject(new SpawnError(answer.code, answer.message, answer.retryable));
  }

  waitFor(ids: readonly string[]): Promise<ChildOutcome[]> {
    if (this.#suspended) return Promise.reject(new TaskSuspended());
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
      return Promise.reject(new WaitForError("waitFor(ids): ids must be an array of task ids", false));
    }
    if (ids.length > MAX_WAIT_FOR_IDS) {
      return Promise.reject(
        new WaitForError(`waitFor takes at most ${MAX_WAIT_FOR_IDS} ids, got ${ids.length}`, false),
      );
    }
    if (ids.length === 0) return Promise.resolve([]);
    // The state to resume from must reach the engine with the suspension: checked now, so a state
    // kiln cannot store fails here, at the call, rather than the wait.
    try {
      this.latestStateJson();
    } catch (error) {
      return Promise.reject(error);
    }
    this.flushProgress();
    const callId = this.#nextWaitCall++;
    return new Promise<ChildOutcome[]>((resolve, reject) => {
      this.#waits.set(callId, { resolve, reject });
      this.post({ type: "wait-for", taskId: this.taskId, callId, ids: [...ids] });
    });
  }

  /** The engine answered a waitFor call. */
  settleWait(answer: WaitAnswer): void {
    const pending = this.#waits.get(answer.callId);
    if (!pending) return;
    this.#waits.delete(answer.callId);
    if (answer.type === "wait-over") pending.resolve(answer.outcomes);
    else if (answer.type === "wait-refused")
      pending.reject(new WaitForError(answer.message, answer.retryable));
    else {
      this.#suspended = true;
      pending.reject(new TaskSuspended());
    }
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
    // A spawn still unanswered belongs to a run that is over: nothing awaits it any more, and
    // rejecting it would only raise an unhandled rejection in the worker.
    this.#spawns.clear();
    this.#waits.clear();
    if (this.#progressTimer) clearTimeout(this.#progressTimer);
    this.#heapGuard?.dispose();
  }
}
