/**
 * The dispatcher's flow control: whether a task picked from the queue may start now under its
 * name's `static rateLimit` and per-key `static concurrency`, and what it waits for otherwise.
 * Used by the in-memory `Dispatcher` of a kiln alone on SQLite; nodes sharing PostgreSQL count
 * their limits in the database instead (`ClaimDispatcher`, `claimFlow`).
 *
 * - Rate limits are counted in memory on this node, from the starts this gate admitted and, when
 *   a name's window is first needed, the starts the store's history has in it (`seedWindow`):
 *   the name's tasks wait until that read is in, so a restart opens no room in the window.
 * - A task over its rate limit goes back into the queue as a delayed task due at the time it may
 *   start, so the dispatcher's due timer wakes it: no polling.
 * - A task whose key has every slot held waits here, in the scheduler's order (priority, then
 *   age), and goes back to the queue when a run of its key gives its slot back.
 * - While its task name is paused (by a client, durably: the manager keeps the store's rows in
 *   step), a task waits here too and goes back to the queue when the name is resumed.
 * - While a task waits, its reason is kept here and shown as its status reason; one held back by
 *   its rate limit shows the time it may start as its `runAt` (the time it is queued for).
 */
import {
  KeyConcurrency,
  keyWaitReason,
  NAME_WIDE_KEY,
  RateLimiter,
  type RateLimitRule,
  type TaskKeys,
  taskKeysOf,
} from "../../flow/index.ts";
import type { RateStart } from "../../store/index.ts";
import type { TaskRegistry } from "../registry.ts";
import type { QueueEntry } from "./scheduler.ts";
import type { WaitOverlay } from "./task-dispatch.ts";

/** Keys of tasks that gave back their slot, kept for a start that is rolled back and retried. */
const RECENT_KEYS = 1024;

export type Admission = { start: true } | { start: false; notBefore: number | null };

interface NameLimits {
  rate: RateLimiter | null;
  keys: KeyConcurrency | null;
}

interface Holding {
  name: string;
  concurrencyKey: string | null;
}

export class FlowGate {
  readonly #limits = new Map<string, NameLimits | null>();
  /** The keys of the tasks in the queue, by id. */
  readonly #keysById = new Map<string, TaskKeys>();
  readonly #recentKeys = new Map<string, TaskKeys>();
  /** Runs holding a slot of their key, by task id. */
  readonly #holding = new Map<string, Holding>();
  /** Tasks waiting for a slot of their key, by id. */
  readonly #held = new Map<string, QueueEntry>();
  /** Why each waiting task waits; `runAt` for one held back by its rate limit. */
  readonly #reasons = new Map<string, WaitOverlay>();
  /** Paused task names, with the reason their waiting tasks show. */
  readonly #pausedNames = new Map<string, string>();
  /** Tasks waiting for their name to be resumed, by id. */
  readonly #pausedHeld = new Map<string, QueueEntry>();
  /** Rate-limited names whose window is being read from the store, with the tasks waiting for it. */
  readonly #seeding = new Map<string, QueueEntry[]>();

  /**
   * `seedWindow`, when given, is asked once per rate-limited name, when its window is first
   * needed, to read the starts already in it; it answers through `seeded`.
   */
  constructor(
    private readonly registry: TaskRegistry,
    private readonly seedWindow?: (name: string, rule: RateLimitRule) => void,
  ) {}

  /** Notes the keys of a task put in the queue, from its stored (validated) params. */
  noteTask(id: string, name: string, params: unknown): void {
    const registered = this.registry.get(name);
    if (!registered || (!registered.flow.rateLimit && registered.flow.concurrency?.kind !== "key")) return;
    const keys = taskKeysOf(name, registered.flow, params);
    // Its params passed the key functions when it was created; a class changed since then that
    // now refuses them counts the task under the name-wide key rather than stranding it.
    this.#keysById.set(
      id,
      keys.ok
        ? { rateKey: keys.rateKey, concurrencyKey: keys.concurrencyKey }
        : { rateKey: NAME_WIDE_KEY, concurrencyKey: NAME_WIDE_KEY },
    );
  }

  /** Tasks waiting here for a slot of their key or for their name to be resumed. */
  get waitingCount(): number {
    let seeding = 0;
    for (const entries of this.#seeding.values()) seeding += entries.length;
    return this.#held.size + this.#pausedHeld.size + seeding;
  }

  /** Why the task waits (and, for its rate limit, until when), while it waits here or in the queue. */
  reason(id: string): WaitOverlay | undefined {
    return this.#reasons.get(id);
  }

  /** No task of `name` starts until `resumeName`; `reason` is what its waiting tasks show. */
  pauseName(name: string, reason: string): void {
    this.#pausedNames.set(name, reason);
    for (const [id, entry] of this.#pausedHeld) if (entry.name === name) this.#reasons.set(id, { reason });
  }

  /** The name's tasks that waited for it, to put back in the queue. */
  resumeName(name: string): QueueEntry[] {
    this.#pausedNames.delete(name);
    const resumed: QueueEntry[] = [];
    for (const [id, entry] of this.#pausedHeld) {
      if (entry.name !== name) continue;
      this.#pausedHeld.delete(id);
      this.#reasons.delete(id);
      resumed.push(entry);
    }
    return resumed;
  }

  /** Whether a task waits here for a slot of its key, for its name to be resumed, or for its window's read. */
  waiting(id: string): boolean {
    if (this.#held.has(id) || this.#pausedHeld.has(id)) return true;
    for (const entries of this.#seeding.values()) if (entries.some((entry) => entry.id === id)) return true;
    return false;
  }

  /**
   * The starts read for `name`'s window are in: they are counted, and the tasks that waited for
   * them are answered, to go back to the queue.
   */
  seeded(name: string, starts: readonly RateStart[]): QueueEntry[] {
    const waiting = this.#seeding.get(name) ?? [];
    this.#seeding.delete(name);
    const rate = this.#limits.get(name)?.rate;
    if (rate) for (const start of starts) rate.record(start.rateKey, start.at);
    for (const entry of waiting) this.#reasons.delete(entry.id);
    return waiting;
  }

  /** Whether `entry` may start at `now`; when it may, its key slot and its start are taken. */
  admit(entry: QueueEntry, now: number): Admission {
    const paused = this.#pausedNames.get(entry.name);
    if (paused !== undefined) {
      this.#pausedHeld.set(entry.id, entry);
      this.#reasons.set(entry.id, { reason: paused });
      return { start: false, notBefore: null };
    }
    const limits = this.#limitsOf(entry.name);
    if (!limits) return { start: true };
    const seeding = this.#seeding.get(entry.name);
    if (seeding) {
      seeding.push(entry);
      this.#reasons.set(entry.id, { reason: `reading the starts in the rate window of "${entry.name}"` });
      return { start: false, notBefore: null };
    }
    const keys = this.#keysById.get(entry.id) ??
      this.#recentKeys.get(entry.id) ?? { rateKey: NAME_WIDE_KEY, concurrencyKey: NAME_WIDE_KEY };
    const concurrencyKey = limits.keys ? (keys.concurrencyKey ?? NAME_WIDE_KEY) : null;
    if (limits.keys && concurrencyKey !== null && !limits.keys.canAcquire(concurrencyKey)) {
      limits.keys.enqueue(concurrencyKey, { id: entry.id, priority: entry.priority });
      this.#held.set(entry.id, entry);
      this.#reasons.set(entry.id, { reason: keyWaitReason(concurrencyKey, limits.keys.limit) });
      return { start: false, notBefore: null };
    }
    if (limits.rate) {
      const decision = limits.rate.tryStart(keys.rateKey ?? NAME_WIDE_KEY, now);
      if (!decision.start) {
        this.#reasons.set(entry.id, { reason: decision.reason, runAt: decision.notBefore });
        return { start: false, notBefore: decision.notBefore };
      }
    }
    if (limits.keys && concurrencyKey !== null) {
      limits.keys.tryAcquire(concurrencyKey);
      this.#holding.set(entry.id, { name: entry.name, concurrencyKey });
    }
    this.#reasons.delete(entry.id);
    this.#remember(entry.id);
    return { start: true };
  }

  /**
   * A run gives back its key slot (it ended, paused at a checkpoint, or its start was undone):
   * answers the task of that key to put back in the queue, if one waits.
   */
  release(id: string): QueueEntry | undefined {
    const holding = this.#holding.get(id);
    if (!holding) return undefined;
    this.#holding.delete(id);
    const keys = this.#limitsOf(holding.name)?.keys;
    if (!keys || holding.concurrencyKey === null) return undefined;
    keys.release(holding.concurrencyKey);
    const next = keys.peek(holding.concurrencyKey);
    if (!next) return undefined;
    keys.remove(next.id);
    const entry = this.#held.get(next.id);
    this.#held.delete(next.id);
    return entry;
  }

  /** The task left the queue other than by starting (paused, stopped, deleted). */
  forget(id: string): void {
    this.#reasons.delete(id);
    this.#pausedHeld.delete(id);
    this.#keysById.delete(id);
    for (const entries of this.#seeding.values()) {
      const index = entries.findIndex((entry) => entry.id === id);
      if (index >= 0) entries.splice(index, 1);
    }
    if (this.#held.delete(id)) {
      for (const limits of this.#limits.values()) limits?.keys?.remove(id);
    }
  }

  // The keys of a started task move aside: a rolled-back start comes back without its params.
  #remember(id: string): void {
    const keys = this.#keysById.get(id);
    if (!keys) return;
    this.#keysById.delete(id);
    this.#recentKeys.delete(id);
    this.#recentKeys.set(id, keys);
    if (this.#recentKeys.size > RECENT_KEYS) {
      const oldest = this.#recentKeys.keys().next().value;
      if (oldest !== undefined) this.#recentKeys.delete(oldest);
    }
  }

  #limitsOf(name: string): NameLimits | null {
    let limits = this.#limits.get(name);
    if (limits !== undefined) return limits;
    const flow = this.registry.get(name)?.flow;
    const rate = flow?.rateLimit ? new RateLimiter(flow.rateLimit) : null;
    const keys = flow?.concurrency?.kind === "key" ? new KeyConcurrency(flow.concurrency.limit) : null;
    limits = rate || keys ? { rate, keys } : null;
    // Only cached once the class is registered: a name seen before its class must look again.
    if (flow) this.#limits.set(name, limits);
    if (flow?.rateLimit && this.seedWindow) {
      this.#seeding.set(name, []);
      this.seedWindow(name, flow.rateLimit);
    }
    return limits;
  }
}
