import type { NewTaskLog, TaskProgress, TaskStore, TelemetryBatch } from "../../store/index.ts";
import { LOG_LEVELS, type LogLevel } from "../../task/index.ts";
import { LATEST_DATE_MS } from "../creation/create-options.ts";
import { StorageUnavailableError } from "../errors.ts";
import type { EventHub } from "../events.ts";

/** Log lines one task may add per tick; the rest are counted and reported as one line. */
const MAX_LOG_LINES_PER_TICK = 500;
/** Log lines kept in memory while the database cannot be written; the rest are counted. */
const MAX_LOG_LINES_KEPT = 10_000;
/** How long to wait before writing again after the database refused a write. */
const RETRY_DELAY_MS = 500;

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;

/** What is wrong with an entry before it joins the shared batch, or undefined when nothing is. */
function progressProblem({ done, total, message }: TaskProgress): string | undefined {
  if (!isCount(done)) return `progress done ${String(done)} is not a finite number ≥ 0`;
  if (total !== null && !(isCount(total) && total >= done))
    return `progress total ${String(total)} is not ≥ done`;
  if (message !== null && typeof message !== "string") return "the progress message is not text";
  return undefined;
}

function logProblem(level: unknown, message: unknown, at: unknown): string | undefined {
  if (!(LOG_LEVELS as readonly unknown[]).includes(level)) return `log level ${String(level)} is unknown`;
  if (typeof message !== "string") return "the log line is not text";
  if (!isCount(at) || at > LATEST_DATE_MS) return `the log line's time ${String(at)} is not a date`;
  return undefined;
}

/** The part of a batch about one task. */
function slice(batch: TelemetryBatch, taskId: string): TelemetryBatch {
  const progress = batch.progress.get(taskId);
  const checkpoint = batch.checkpoints.get(taskId);
  return {
    progress: progress === undefined ? new Map() : new Map([[taskId, progress]]),
    checkpoints: checkpoint === undefined ? new Map() : new Map([[taskId, checkpoint]]),
    logs: batch.logs.filter((log) => log.taskId === taskId),
  };
}

/**
 * Coalesces progress, checkpoint states and log lines from workers into one transaction per
 * tick, so a task reporting in a tight loop costs one row update per tick, not one per call.
 * One task's bad entry must not cost the others theirs: each entry is checked before it joins
 * the batch, and a batch that fails all the same is written again one task at a time, so only
 * the task whose entries the database refuses loses them.
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
  /** The write under way; the next waits for it, so lines land in the order they came. */
  #writing: Promise<boolean> = Promise.resolve(true);
  /** Writes queued or under way. */
  #writes = 0;

  constructor(
    private readonly store: Pick<TaskStore, "writeTelemetry">,
    private readonly events: EventHub,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    /** An entry refused before the batch, or a task's entries the database refused. */
    private readonly onDropped: (taskId: string, why: string) => void,
  ) {}

  progress(taskId: string, progress: TaskProgress): void {
    const problem = progressProblem(progress);
    if (problem) {
      this.onDropped(taskId, problem);
      return;
    }
    this.#progress.set(taskId, progress);
    this.#arm();
  }

  checkpoint(taskId: string, state: unknown): void {
    this.#checkpoints.set(taskId, state);
    this.#arm();
  }

  log(taskId: string, level: LogLevel, message: string, at: number): void {
    const problem = logProblem(level, message, at);
    if (problem) {
      this.onDropped(taskId, problem);
      return;
    }
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
   * Writes everything buffered now. Called every tick and before a run's end or pause. When the
   * database cannot be written, everything stays buffered and is written on a later tick.
   */
  async flush(): Promise<void> {
    await this.#next();
  }

  /**
   * Like `flush`, but rejects with `StorageUnavailableError` when the buffered writes could not
   * be made. Undefined, at once, when nothing is buffered or being written (the common case before
   * a commit of run ends).
   */
  flushOrThrow(): Promise<void> | undefined {
    if (this.#idle()) return undefined;
    return this.#next().then((written) => {
      if (!written && this.#failing) throw this.#failing;
    });
  }

  #idle(): boolean {
    return (
      this.#writes === 0 &&
      this.#progress.size === 0 &&
      this.#checkpoints.size === 0 &&
      this.#logs.length === 0 &&
      this.#droppedInTick.size === 0 &&
      this.#droppedWhileDown.size === 0
    );
  }

  #next(): Promise<boolean> {
    this.#writes++;
    this.#writing = this.#writing
      .then(() => this.#write())
      .finally(() => {
        this.#writes--;
      });
    return this.#writing;
  }

  /** True when nothing is left buffered. */
  async #write(): Promise<boolean> {
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
      await this.store.writeTelemetry(batch);
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        // Put it back before what arrived meanwhile, which is newer. The drop counts stay as
        // they are, so a long outage still ends in one marker per task.
        this.#putBack(batch.progress, batch.checkpoints, logs);
        this.#failing = error;
        this.#timer ??= setTimeout(() => void this.flush(), Math.max(this.intervalMs, RETRY_DELAY_MS));
        return false;
      }
      // Anything else is not going to get better by waiting: write the tasks one by one, so
      // that only the entries of the task the database refuses are lost.
      this.onError(error);
      this.#droppedInTick.clear();
      this.#droppedWhileDown.clear();
      return this.#writeEachTask(batch);
    }
    this.#failing = undefined;
    this.#droppedInTick.clear();
    this.#droppedWhileDown.clear();
    for (const marker of markers) this.events.emit({ type: "log", ...marker });
    for (const [taskId, progress] of batch.progress)
      this.events.emit({ type: "progress", at: Date.now(), taskId, progress });
    return true;
  }

  /**
   * Writes a batch that failed as a whole one task at a time. A task whose part fails again is
   * dropped and reported; a storage fault keeps what is left for a later tick, as for any batch.
   */
  async #writeEachTask(batch: TelemetryBatch): Promise<boolean> {
    const ids = new Set([
      ...batch.progress.keys(),
      ...batch.checkpoints.keys(),
      ...batch.logs.map((l) => l.taskId),
    ]);
    const left = [...ids];
    while (left.length > 0) {
      const taskId = left[0] as string;
      const part = slice(batch, taskId);
      try {
        await this.store.writeTelemetry(part);
      } catch (error) {
        if (error instanceof StorageUnavailableError) {
          for (const id of left) {
            const kept = slice(batch, id);
            this.#putBack(kept.progress, kept.checkpoints, kept.logs);
          }
          this.#failing = error;
          this.#timer ??= setTimeout(() => void this.flush(), Math.max(this.intervalMs, RETRY_DELAY_MS));
          return false;
        }
        const what = `${part.logs.length} log lines${part.progress.size ? ", its progress" : ""}${part.checkpoints.size ? ", its checkpoint state" : ""}`;
        this.onDropped(taskId, `${what} could not be written and were dropped: ${String(error)}`);
        left.shift();
        continue;
      }
      left.shift();
      for (const [id, progress] of part.progress)
        this.events.emit({ type: "progress", at: Date.now(), taskId: id, progress });
    }
    this.#failing = undefined;
    return true;
  }

  /** Puts back what could not be written, behind what arrived since (newer progress and states win). */
  #putBack(progress: Map<string, TaskProgress>, checkpoints: Map<string, unknown>, logs: NewTaskLog[]): void {
    for (const [key, value] of this.#progress) progress.set(key, value);
    for (const [key, value] of this.#checkpoints) checkpoints.set(key, value);
    this.#progress = progress;
    this.#checkpoints = checkpoints;
    this.#logs = logs.concat(this.#logs);
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
  async close(): Promise<void> {
    await this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }
}
