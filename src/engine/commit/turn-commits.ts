import type { TurnCreates } from "../creation/create-batch.ts";
import type { EventHub } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { GuardedStore } from "./storage-guard.ts";
import type { TaskLanes } from "./task-lanes.ts";
import { Unit } from "./unit.ts";
import type { EngineWrite, WriteRetry } from "./write-retry.ts";

/** A run whose RUNNING row is not committed yet: its worker hears of it only once it is. */
export interface PendingStart {
  launch: () => void;
  undo: () => void;
}

/** The starts of one dispatch, begun inside `unit` one after another (together where the store pipelines). */
export type StartPlan = (unit: Unit) => Iterable<() => Promise<void>>;

/** What the commits need of the dispatcher. */
export interface StartSource {
  /** The starts there is room for now, or undefined when none may start (no commit is made for them). */
  plan(): StartPlan | undefined;
  /** Sets the timer for the next delayed task. */
  armDueTimer(): void;
}

interface Deferred {
  taskId: string;
  label: string;
  write: EngineWrite;
}

/**
 * Writes what one event-loop turn caused in one transaction: what worker messages cause (a run's
 * end or pause), the creates submitted (`CreateBatch`), then the next runs' starts; one commit
 * instead of one per write, and one for a turn that both creates tasks and ends runs, which a
 * busy API does in nearly every turn. A write waits for the end of the turn, so every end that
 * arrived meanwhile (on a busy main thread, one from each worker) shares that commit, and so do
 * the ends and creates that arrive while a commit is under way: one commit at a time, each taking
 * everything waiting. Deferring a message is the same as receiving it a moment later, which the
 * engine already allows for. Each write holds its task's lane from the moment it is decided until
 * it is committed (or kept), so a control request on that task decides from what it wrote.
 * Listeners hear of the writes, creates resolve, and workers are told to run, only once they are
 * committed. If the commit fails on a storage fault, nothing of it is in the database: the writes
 * are kept and retried like any write that failed (and announced once written), the creates
 * reject (a 503 to an API caller), and the starts are undone, as a start that fails alone is.
 */
export class TurnCommits {
  #items: Deferred[] = [];
  #dispatch = false;
  #scheduled = false;
  #running: Promise<void> | undefined;
  /** Writes waiting for their task's lane. */
  readonly #waiting = new Set<Promise<void>>();

  constructor(
    private readonly guard: GuardedStore,
    private readonly hub: EventHub,
    private readonly lanes: TaskLanes,
    private readonly writes: WriteRetry,
    /** Writes buffered progress and logs first; rejects on a storage fault; undefined when none is. */
    private readonly flushTelemetry: () => Promise<void> | undefined,
    private readonly starts: StartSource,
    /** The creates submitted since the last commit (`CreateBatch`). */
    private readonly creates: { readonly waiting: boolean; take(): TurnCreates | undefined },
    private readonly logger: Logger,
  ) {}

  /**
   * Once the task's lane is free (at once, when it is), runs `decide`, which does what the message
   * means in memory and returns the write it needs; the write is committed at the end of the turn.
   */
  defer(taskId: string, label: string, decide: () => EngineWrite | undefined): void {
    if (this.lanes.tryTake(taskId)) {
      this.#decide(taskId, label, decide);
      return;
    }
    const waiting = this.lanes.take(taskId).then(() => {
      this.#waiting.delete(waiting);
      this.#decide(taskId, label, decide);
    });
    this.#waiting.add(waiting);
  }

  #decide(taskId: string, label: string, decide: () => EngineWrite | undefined): void {
    let write: EngineWrite | undefined;
    try {
      write = decide();
    } catch (error) {
      this.lanes.release(taskId);
      throw error;
    }
    if (!write) {
      this.lanes.release(taskId);
      return;
    }
    this.#items.push({ taskId, label, write });
    this.#schedule();
  }

  /** Starts what there is room for at the end of this turn, in that turn's commit. */
  requestDispatch(): void {
    this.#dispatch = true;
    this.#schedule();
  }

  /** Writes the creates submitted so far at the end of this turn, in that turn's commit. */
  requestCreates(): void {
    this.#schedule();
  }

  /** Writes everything deferred so far, and waits for it (shutdown, before it ends the runs left). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#waiting.size > 0) await Promise.all(this.#waiting);
      else if (this.#running) await this.#running;
      else if (this.#items.length > 0 || this.#dispatch || this.creates.waiting) await this.#drain();
      else return;
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  /** Commits what is waiting, one commit at a time, until nothing is. */
  #drain(): Promise<void> {
    // Cleared in a later microtask, so never before it is set, even when nothing was awaited.
    this.#running ??= this.#commitAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #commitAll(): Promise<void> {
    while (this.#items.length > 0 || this.#dispatch || this.creates.waiting) {
      const items = this.#items;
      const dispatch = this.#dispatch;
      this.#items = [];
      this.#dispatch = false;
      await this.#commit(items, dispatch);
    }
  }

  async #commit(items: Deferred[], dispatch: boolean): Promise<void> {
    const label = items.length === 1 ? (items[0]?.label ?? "") : `${items.length} worker messages`;
    let creates: TurnCreates | undefined;
    let writes = items;
    try {
      let ready = true;
      if (items.length > 0 && !(await this.#ready())) {
        // Still failing: behind the writes kept already, in order; the creates are tried alone.
        this.writes.keep(
          label,
          items.map((item) => item.write),
        );
        writes = [];
        ready = false;
      }
      // Taken after the wait above, so the creates submitted meanwhile ride along.
      creates = this.creates.take();
      const starts = dispatch && ready ? this.starts.plan() : undefined;
      if (writes.length === 0 && creates === undefined && starts === undefined) {
        this.starts.armDueTimer();
        return;
      }
      await Unit.run(this.guard, this.hub, async (unit) => {
        // The writes, the creates, then the starts: all of different tasks (a write holds its
        // task's lane, a new task is queued only once committed, a task is started only from the
        // queue, and a run's end frees its slot when decided).
        await unit.each(this.#parts(unit, writes, creates, starts), (part) => part());
        this.starts.armDueTimer();
      });
      creates?.committed();
    } catch (error) {
      creates?.failed(error);
      if (!this.guard.isFault(error)) {
        this.logger.error("writing what this turn caused failed", { error: String(error) });
        return;
      }
      this.writes.keep(
        label,
        writes.map((item) => item.write),
      );
    } finally {
      for (const item of items) this.lanes.release(item.taskId);
    }
  }

  *#parts(
    unit: Unit,
    items: Deferred[],
    creates: TurnCreates | undefined,
    starts: StartPlan | undefined,
  ): Generator<() => Promise<void>> {
    for (const item of items) yield () => item.write(unit);
    if (creates) yield () => creates.write(unit);
    if (starts) yield* starts(unit);
  }

  /** Kept writes go first, and progress and logs before any end; false while they still fail. */
  async #ready(): Promise<boolean> {
    if (this.writes.size > 0 && !(await this.writes.retryNow())) return false;
    const flushing = this.flushTelemetry();
    if (!flushing) return true;
    try {
      await flushing;
    } catch (error) {
      if (this.guard.isFault(error)) return false;
      throw error;
    }
    return true;
  }
}
