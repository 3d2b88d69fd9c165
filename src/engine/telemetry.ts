import type { NewTaskLog, TaskProgress, TaskStore } from "../store/index.ts";
import type { LogLevel } from "../task/index.ts";
import { StorageUnavailableError } from "./errors.ts";
import type { EventHub } from "./events.ts";

/** Log lines one task may add per tick; the rest are counted and reported as one line. */
const MAX_LOG_LINES_PER_TICK = 500;
/** Log lines kept in memory while the database cannot be written; the rest are counted. */
const MAX_LOG_LINES_KEPT = 10_000;
/** How long to wait before writing again after the database refused a write. */
const RETRY_DELAY_MS = 500;

/**
 * Coalesces progress, checkpoint states and log lines from workers into one transaction per
 * tick, so a task reporting in a tight loop costs one row update per tick, not one per call.
 */
export class TelemetryBuffer {
  #progress = new Map<string, TaskProgress>();
  #checkpoints = new Map<string, unknown>();
  #logs: NewTaskLog[] = [];
  #logCounts = new Map<string, number>();
  #dropped = new Map<string, number>();
  /** Set while the last write failed on a storage fault; what was buffered is kept for a retry. */
  #failing: StorageUnavailableError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly events: EventHub,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  progress(taskId: string, progress: TaskProgress): void {
    this.#progress.set(taskId, progress);
    this.#arm();
  }

  checkpoint(taskId: string, state: unknown): void {
    this.#checkpoints.set(taskId, state);
    this.#arm();
  }

  log(taskId: string, level: LogLevel, message: string, at: number): void {
    const count = (this.#logCounts.get(taskId) ?? 0) + 1;
    this.#logCounts.set(taskId, count);
    if (count > MAX_LOG_LINES_PER_TICK || this.#logs.length >= MAX_LOG_LINES_KEPT) {
      this.#dropped.set(taskId, (this.#dropped.get(taskId) ?? 0) + 1);
    } else {
      this.#logs.push({ taskId, level, message, at });
      this.events.emit({ type: "log", at, taskId, level, message });
    }
    this.#arm();
  }

  /** Forgets what is buffered for a task whose row is gone. */
  discard(taskId: string): void {
    this.#progress.delete(taskId);
    this.#checkpoints.delete(taskId);
    this.#logs = this.#logs.filter((log) => log.taskId !== taskId);
    this.#dropped.delete(taskId);
  }

  /**
   * Writes everything buffered now. Called every tick and before any transition. When the
   * database cannot be written, everything stays buffered and is written on a later tick.
   */
  flush(): void {
    this.#write();
  }

  /** Like `flush`, but throws `StorageUnavailableError` when the buffered writes could not be made. */
  flushOrThrow(): void {
    if (!this.#write() && this.#failing) throw this.#failing;
  }

  /** True when nothing is left buffered. */
  #write(): boolean {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (
      this.#progress.size === 0 &&
      this.#checkpoints.size === 0 &&
      this.#logs.length === 0 &&
      this.#dropped.size === 0
    ) {
      return true;
    }
    const at = Date.now();
    for (const [taskId, dropped] of this.#dropped) {
      const why = this.#failing
        ? `while the database could not be written (more than ${MAX_LOG_LINES_KEPT} kept)`
        : `more than ${MAX_LOG_LINES_PER_TICK} in one tick`;
      const message = `${dropped} log lines dropped: ${why}`;
      this.#logs.push({ taskId, level: "warn", message, at });
      this.events.emit({ type: "log", at, taskId, level: "warn", message });
    }
    const batch = { progress: this.#progress, checkpoints: this.#checkpoints, logs: this.#logs };
    this.#progress = new Map();
    this.#checkpoints = new Map();
    this.#logs = [];
    this.#logCounts.clear();
    this.#dropped.clear();
    try {
      this.store.writeTelemetry(batch);
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        // Nothing can have arrived since the batch was taken (this is synchronous): put it back.
        this.#progress = batch.progress;
        this.#checkpoints = batch.checkpoints;
        this.#logs = batch.logs;
        this.#failing = error;
        this.#timer ??= setTimeout(() => this.flush(), Math.max(this.intervalMs, RETRY_DELAY_MS));
        return false;
      }
      this.onError(error);
      return true;
    }
    this.#failing = undefined;
    for (const [taskId, progress] of batch.progress)
      this.events.emit({ type: "progress", at, taskId, progress });
    return true;
  }

  /** Writes what is buffered once more and stops retrying. */
  close(): void {
    this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }
}
