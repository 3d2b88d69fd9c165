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
  /** Lines over the per-tick cap, per task. */
  #droppedInTick = new Map<string, number>();
  /** Lines over the cap of what is kept while the database cannot be written, per task. */
  #droppedWhileDown = new Map<string, number>();
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
    if (count > MAX_LOG_LINES_PER_TICK) {
      this.#droppedInTick.set(taskId, (this.#droppedInTick.get(taskId) ?? 0) + 1);
    } else if (this.#logs.length >= MAX_LOG_LINES_KEPT) {
      this.#droppedWhileDown.set(taskId, (this.#droppedWhileDown.get(taskId) ?? 0) + 1);
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
    this.#droppedInTick.delete(taskId);
    this.#droppedWhileDown.delete(taskId);
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
    const markers = this.#dropMarkers();
    if (
      this.#progress.size === 0 &&
      this.#checkpoints.size === 0 &&
      this.#logs.length === 0 &&
      markers.length === 0
    ) {
      return true;
    }
    const logs = this.#logs;
    const batch = {
      progress: this.#progress,
      checkpoints: this.#checkpoints,
      logs: markers.length === 0 ? logs : logs.concat(markers),
    };
    this.#progress = new Map();
    this.#checkpoints = new Map();
    this.#logs = [];
    this.#logCounts.clear();
    try {
      this.store.writeTelemetry(batch);
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        // Nothing can have arrived since the batch was taken (this is synchronous): put it back.
        // The drop counts stay as they are, so a long outage still ends in one marker per task.
        this.#progress = batch.progress;
        this.#checkpoints = batch.checkpoints;
        this.#logs = logs;
        this.#failing = error;
        this.#timer ??= setTimeout(() => this.flush(), Math.max(this.intervalMs, RETRY_DELAY_MS));
        return false;
      }
      // Anything else is not going to get better by waiting: report it and drop the batch.
      this.onError(error);
      this.#droppedInTick.clear();
      this.#droppedWhileDown.clear();
      return true;
    }
    this.#failing = undefined;
    this.#droppedInTick.clear();
    this.#droppedWhileDown.clear();
    for (const marker of markers) this.events.emit({ type: "log", ...marker });
    for (const [taskId, progress] of batch.progress)
      this.events.emit({ type: "progress", at: Date.now(), taskId, progress });
    return true;
  }

  /** One warning line per task that lost log lines, saying how many and why. */
  #dropMarkers(): NewTaskLog[] {
    const at = Date.now();
    const markers: NewTaskLog[] = [];
    const add = (counts: Map<string, number>, why: string) => {
      for (const [taskId, dropped] of counts)
        markers.push({ taskId, level: "warn", message: `${dropped} log lines dropped: ${why}`, at });
    };
    add(this.#droppedInTick, `more than ${MAX_LOG_LINES_PER_TICK} in one tick`);
    add(
      this.#droppedWhileDown,
      `more than ${MAX_LOG_LINES_KEPT} kept while the database could not be written`,
    );
    return markers;
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
