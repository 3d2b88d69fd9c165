import type { DeletedTask, TaskStore } from "../../store/index.ts";
import type { Logger } from "../logger.ts";

/** How the retention pruner paces itself; the defaults suit a service. */
export interface RetentionTuning {
  /** Time between prune passes (default: a tenth of the retention, from 1 s to 5 min). */
  intervalMs: number;
  /** Delay before the first pass after start (default 1 s). */
  firstPassDelayMs: number;
  /** Tasks deleted per transaction (default 250). */
  batchSize: number;
  /** Pause between two batches, during which API requests are served (default 5 ms). */
  pauseMs: number;
}

export function retentionTuning(retainMs: number, given: Partial<RetentionTuning> = {}): RetentionTuning {
  if (!Number.isFinite(retainMs) || retainMs <= 0) throw new Error("retainMs must be a positive number");
  return {
    intervalMs: given.intervalMs ?? Math.min(300_000, Math.max(1_000, Math.round(retainMs / 10))),
    firstPassDelayMs: given.firstPassDelayMs ?? 1_000,
    batchSize: given.batchSize ?? 250,
    pauseMs: given.pauseMs ?? 5,
  };
}

/**
 * Deletes tasks that ended (FINISHED, FAILED, STOPPED) more than `retainMs` ago, with their
 * events and logs. Each batch is one short transaction, and the event loop runs between two
 * of them, so a prune of a long history never holds API requests up for long. Live, PENDING
 * and PAUSED tasks are never touched: the store's DELETE checks the status itself.
 */
export class RetentionPruner {
  readonly #tuning: RetentionTuning;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pass: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly store: Pick<TaskStore, "deleteEndedBefore">,
    private readonly retainMs: number,
    private readonly logger: Logger,
    tuning: Partial<RetentionTuning> = {},
    /** Told of every batch deleted (the engine's task counts). */
    private readonly onDeleted: (tasks: DeletedTask[]) => void = () => {},
    /** Whether this node prunes now: on a database nodes share, only the leader does. */
    private readonly runsHere: () => boolean = () => true,
  ) {
    this.#tuning = retentionTuning(retainMs, tuning);
  }

  start(): void {
    if (this.#stopped || this.#timer || this.#pass) return;
    this.#schedule(this.#tuning.firstPassDelayMs);
  }

  /** Ends the schedule; resolves once a pass under way has stopped after its current batch. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  /**
   * One pass: deletes batch after batch until no task that ended before `now - retainMs` is
   * left. Resolves with the count.
   */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = now - this.retainMs;
    const started = performance.now();
    let deleted = 0;
    let batches = 0;
    while (!this.#stopped) {
      const removed = await this.store.deleteEndedBefore(cutoff, this.#tuning.batchSize);
      this.onDeleted(removed);
      const count = removed.length;
      deleted += count;
      if (count > 0) batches++;
      if (count < this.#tuning.batchSize) break;
      this.logger.debug("retention batch deleted", { deleted: count, total: deleted });
      await Bun.sleep(this.#tuning.pauseMs);
    }
    // A pass that found nothing is no news: at debug, so the service log stays quiet.
    const level = deleted > 0 ? "info" : "debug";
    this.logger[level]("retention pass", {
      deleted,
      batches,
      endedBefore: new Date(cutoff).toISOString(),
      ms: Math.round(performance.now() - started),
      ...(this.#stopped ? { interrupted: "shutdown" } : {}),
    });
    return deleted;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.runsHere()) {
        this.#schedule(this.#tuning.intervalMs);
        return;
      }
      this.#pass = this.prune()
        .then(
          () => undefined,
          (error: unknown) => this.logger.error("retention pass failed", { error: String(error) }),
        )
        .finally(() => {
          this.#pass = undefined;
          if (!this.#stopped) this.#schedule(this.#tuning.intervalMs);
        });
    }, delayMs);
  }
}
