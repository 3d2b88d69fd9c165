import type { RateLimitRule } from "../../flow/index.ts";
import type { TaskRecord } from "../../store/index.ts";
import type { StartPlan } from "../commit/turn-commits.ts";
import type { Unit } from "../commit/unit.ts";
import type { Logger } from "../logger.ts";
import type { TaskRegistry } from "../registry.ts";
import { FlowGate } from "./flow-gate.ts";
import { type QueueEntry, Scheduler } from "./scheduler.ts";
import type { DispatchHooks, TaskDispatch, WaitOverlay } from "./task-dispatch.ts";

/** setTimeout's longest delay (about 24.8 days); a task due later is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a task whose start could not be written waits before the next try. */
const START_RETRY_MS = 500;

/**
 * Which PENDING task starts next, and when: the queue (by priority, then age, per name), the
 * timer for the next delayed task, and the tasks whose class is not registered yet (they wait
 * for it). A dispatch asked for during a turn runs once, in the commit at the end of it.
 */
export class Dispatcher implements TaskDispatch {
  readonly #scheduler = new Scheduler();
  readonly #gate: FlowGate;
  readonly #orphans = new Map<string, TaskRecord[]>();
  #dueTimer: ReturnType<typeof setTimeout> | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(
    private readonly registry: TaskRegistry,
    private readonly hooks: DispatchHooks,
    private readonly logger: Logger,
  ) {
    this.#gate = new FlowGate(
      registry,
      hooks.recentRateStarts && ((name, rule) => this.#seedWindow(name, rule)),
    );
  }

  /**
   * Reads the starts already in `name`'s rate window from the store (made before a restart) and
   * counts them; its tasks wait meanwhile. A failed read is logged and the window starts empty,
   * as it would without the history.
   */
  #seedWindow(name: string, rule: RateLimitRule): void {
    const read = this.hooks.recentRateStarts;
    if (!read) return;
    read(name, Date.now() - rule.perMs, rule.count)
      .catch((error: unknown) => {
        this.logger.warn(`the rate window of "${name}" could not be read from the history; it starts empty`, {
          error: String(error),
        });
        return [];
      })
      .then((starts) => {
        for (const entry of this.#gate.seeded(name, starts)) this.#scheduler.enqueue(entry);
        this.armDueTimer();
        this.request();
      });
  }

  /** Tasks waiting in the queue, including those held back by their key or a paused name. */
  get size(): number {
    return this.#scheduler.size + this.#gate.waitingCount;
  }

  enqueue(task: TaskRecord): void {
    // Held back by its dependencies or children: `DependencyWatch` queues it once they end.
    if (task.awaiting) return;
    if (!this.registry.get(task.taskName)) {
      const list = this.#orphans.get(task.taskName) ?? [];
      list.push(task);
      this.#orphans.set(task.taskName, list);
      this.logger.warn(`task ${task.id} waits: no class is registered under "${task.taskName}"`);
      return;
    }
    this.#gate.noteTask(task.id, task.taskName, task.params);
    this.#scheduler.enqueue({
      id: task.id,
      name: task.taskName,
      priority: task.priority,
      runAt: task.runAt ?? 0,
    });
  }

  /** Queues the task if the transition that returned it left it PENDING. */
  enqueueIfSet(task: TaskRecord | undefined): void {
    if (task?.status === "PENDING") this.enqueue(task);
  }

  remove(id: string): void {
    this.#scheduler.remove(id);
    this.#gate.forget(id);
  }

  /** Why a PENDING task waits, when a rate limit, its key's concurrency or a paused name holds it back. */
  waitOverlay(task: { id: string }): WaitOverlay | undefined {
    return this.#gate.reason(task.id);
  }

  /** No task of `name` starts until `resumeName`; its waiting tasks show `reason`. */
  pauseName(name: string, reason: string): void {
    this.#gate.pauseName(name, reason);
  }

  /** The tasks of `name` that waited for it go back to the queue. */
  resumeName(name: string): void {
    const resumed = this.#gate.resumeName(name);
    for (const entry of resumed) this.#scheduler.enqueue(entry);
    this.request();
  }

  /**
   * A run gave back its slot (ended, paused at a checkpoint, or its start undone): the task
   * waiting for a slot of its key, if any, goes back to the queue.
   */
  released(id: string): void {
    const next = this.#gate.release(id);
    if (!next) return;
    this.#scheduler.enqueue({ ...next, runAt: 0 });
    this.request();
  }

  /** A task whose start could not be written waits in the queue a little before the next try. */
  requeueAfterFailedStart(task: Omit<QueueEntry, "runAt">): void {
    this.#scheduler.enqueue({ ...task, runAt: Date.now() + START_RETRY_MS });
  }

  /** Queues the tasks that were waiting for `name` to be registered. */
  adoptOrphans(name: string): void {
    const orphans = this.#orphans.get(name);
    if (!orphans || !this.hooks.accepting()) return;
    this.#orphans.delete(name);
    for (const task of orphans) this.enqueue(task);
    this.request();
  }

  /** Asks for a dispatch at the end of this turn (once, however often it is asked). */
  request(): void {
    if (this.#stopped) return;
    this.hooks.requestDispatch();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#dueTimer) clearTimeout(this.#dueTimer);
    this.#dueTimer = undefined;
  }

  /**
   * The next task to start. One over its rate limit goes back as a delayed task due when it may
   * start (the due timer wakes it); one whose key is full waits in the gate until a slot frees.
   */
  next(): QueueEntry | undefined {
    for (;;) {
      if (!this.hooks.accepting() || !this.hooks.hasFreeSlot()) return undefined;
      const now = Date.now();
      const entry = this.#scheduler.next(this.hooks.canRun, now);
      if (!entry) return undefined;
      const admission = this.#gate.admit(entry, now);
      if (admission.start) return entry;
      if (admission.notBefore !== null) {
        this.#scheduler.enqueue({ ...entry, runAt: admission.notBefore }, now);
        this.armDueTimer();
      }
    }
  }

  plan(): StartPlan | undefined {
    const first = this.next();
    return first && ((unit) => this.startsFrom(unit, first));
  }

  /**
   * The starts of one dispatch: `first`, then every other task there is room for, each taken off
   * the queue only once the start before it has begun (it takes its slot before its first
   * await, so `next()` counts it). Begun together where the store pipelines.
   */
  *startsFrom(unit: Unit, first: QueueEntry | undefined): Generator<() => Promise<void>> {
    for (let entry = first; entry !== undefined; entry = this.next()) {
      const { id, name } = entry;
      yield () => this.hooks.startRun(unit, id, name);
    }
  }

  armDueTimer(): void {
    if (this.#stopped) return;
    const due = this.#scheduler.nextDueAt();
    if (due === undefined || due >= this.#dueAt) return;
    if (this.#dueTimer) clearTimeout(this.#dueTimer);
    this.#dueAt = due;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#dueTimer = undefined;
        this.request();
      },
      // A longer delay overflows the timer, which then fires at once, again and again.
      Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())),
    );
  }
}
