import type { NewTaskLog, TaskProgress, TaskStore } from "../store/index.ts";
import type { LogLevel } from "../task/index.ts";
import type { EventHub } from "./events.ts";

/** Log lines one task may add per tick; the rest are counted and reported as one line. */
const MAX_LOG_LINES_PER_TICK = 500;

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

  /** Writes everything buffered now. Called every tick and before any transition. */
  flush(): void {
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
      return;
    }
    const at = Date.now();
    for (const [taskId, dropped] of this.#dropped) {
      const message = `${dropped} log lines dropped: more than ${MAX_LOG_LINES_PER_TICK} in one tick`;
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
      this.onError(error);
      return;
    }
    for (const [taskId, progress] of batch.progress)
      this.events.emit({ type: "progress", at, taskId, progress });
  }

  close(): void {
    this.flush();
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }
}
