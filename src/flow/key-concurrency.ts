/**
 * Concurrency per key: `static concurrency = { limit, key }`, checked, and the accounting of the
 * runs holding a slot per key, with the order in which a key's waiting tasks are admitted.
 *
 * Rules:
 * - `static concurrency` is a number (at most that many runs of the task name at once, as
 *   before: the engine's per-name count) or `{ limit, key }` (at most `limit` runs with the same
 *   key at once; runs with other keys are not limited by it). `limit`: an integer from 1 to
 *   MAX_KEY_CONCURRENCY (10,000); `key`: a function (keys.ts). A number is an integer from 1 to
 *   MAX_KEY_CONCURRENCY too. No other field.
 * - A slot is held from the start of a run (RUNNING) to its end, and given back while the task
 *   is paused at a checkpoint: the same moments at which the per-name count changes. Only the
 *   engine's starts acquire and its ends release; `release` of a key that holds no slot is a bug
 *   and throws.
 * - Waiting tasks of a key are admitted in the scheduler's order, not in the order they were
 *   queued: higher priority first, then the older task (ids are UUIDv7, so the smaller id is
 *   the older). A task re-queued after a retry or a resume thus keeps its place by age, and a
 *   urgent task does not wait behind a key's backlog, as everywhere else in kiln.
 * - A key with no slot held and no task waiting is forgotten: memory grows with the keys in use,
 *   not with every key ever seen.
 */
import {
  describeValue,
  type FlowFieldError,
  integerProblem,
  isRecord,
  unknownFieldErrors,
} from "./declaration-fields.ts";

export const MAX_KEY_CONCURRENCY = 10_000;

const FIELDS = ["limit", "key"] as const;
const MEANT: Record<string, string> = { count: "limit", max: "limit", concurrency: "limit", keyOf: "key" };

export type ConcurrencyRule =
  | { kind: "name"; limit: number }
  | { kind: "key"; limit: number; key: (params: unknown) => unknown };

export type ConcurrencyCheck =
  | { ok: true; rule: ConcurrencyRule | null }
  | { ok: false; errors: FlowFieldError[] };

/** Checks a class's `static concurrency` (anything: it comes from user code). `undefined` is none. */
export function checkConcurrency(declaration: unknown, field = "concurrency"): ConcurrencyCheck {
  if (declaration === undefined) return { ok: true, rule: null };
  if (typeof declaration === "number") {
    const problem = integerProblem(declaration, 1, MAX_KEY_CONCURRENCY);
    if (problem) return { ok: false, errors: [{ field, message: problem }] };
    return { ok: true, rule: { kind: "name", limit: declaration } };
  }
  if (!isRecord(declaration)) {
    return {
      ok: false,
      errors: [
        {
          field,
          message: `must be a number or { limit, key: (params) => string }, got ${describeValue(declaration)}`,
        },
      ],
    };
  }
  const errors = unknownFieldErrors(declaration, FIELDS, MEANT, `${field}.`);
  const problem = integerProblem(declaration.limit, 1, MAX_KEY_CONCURRENCY);
  if (problem) errors.push({ field: `${field}.limit`, message: problem });
  const { key } = declaration;
  if (typeof key !== "function") {
    errors.push({
      field: `${field}.key`,
      message:
        key === undefined
          ? "is required in the object form; for one limit over the whole task name, give a number"
          : `must be a function of the params returning a string, got ${describeValue(key)}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    rule: { kind: "key", limit: declaration.limit as number, key: key as (params: unknown) => unknown },
  };
}

/** What a task waiting for a slot of its key shows. */
export function keyWaitReason(key: string, limit: number): string {
  return `waiting for a slot of key ${JSON.stringify(key)}: ${limit} run${limit === 1 ? "" : "s"} at once per key`;
}

/** A PENDING task waiting for a slot of its key. */
export interface KeyWaiter {
  id: string;
  priority: number;
}

/** True when `a` is admitted before `b`: higher priority, then the older (smaller) id. */
export function admittedBefore(a: KeyWaiter, b: KeyWaiter): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.id < b.id;
}

interface KeyState {
  running: number;
  /** In admission order. */
  waiting: KeyWaiter[];
}

/** One task name's per-key slots and the tasks waiting for them. */
export class KeyConcurrency {
  readonly #keys = new Map<string, KeyState>();
  /** Which key each waiting task waits on. */
  readonly #waitingKey = new Map<string, string>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
  }

  /** Keys with a slot held or a task waiting. */
  get keyCount(): number {
    return this.#keys.size;
  }

  running(key: string): number {
    return this.#keys.get(key)?.running ?? 0;
  }

  waiting(key: string): number {
    return this.#keys.get(key)?.waiting.length ?? 0;
  }

  canAcquire(key: string): boolean {
    return this.running(key) < this.limit;
  }

  /** Takes a slot of `key` for a run that starts now; false (nothing taken) when all are held. */
  tryAcquire(key: string): boolean {
    if (!this.canAcquire(key)) return false;
    this.#state(key).running++;
    return true;
  }

  /** Gives back a slot of `key` when a run ends or parks paused. */
  release(key: string): void {
    const state = this.#keys.get(key);
    if (!state || state.running === 0)
      throw new Error(`release of key ${JSON.stringify(key)}, which holds no slot`);
    state.running--;
    this.#forgetIfIdle(key, state);
  }

  /** Queues a task for a slot of `key` (again: it moves to its place by the order). */
  enqueue(key: string, waiter: KeyWaiter): void {
    this.remove(waiter.id);
    const { waiting } = this.#state(key);
    let low = 0;
    let high = waiting.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (admittedBefore(waiting[middle] as KeyWaiter, waiter)) low = middle + 1;
      else high = middle;
    }
    waiting.splice(low, 0, { id: waiter.id, priority: waiter.priority });
    this.#waitingKey.set(waiter.id, key);
  }

  /** Takes a task out of the queue (paused, stopped, deleted); false when it was not waiting. */
  remove(id: string): boolean {
    const key = this.#waitingKey.get(id);
    if (key === undefined) return false;
    this.#waitingKey.delete(id);
    const state = this.#keys.get(key) as KeyState;
    state.waiting.splice(
      state.waiting.findIndex((waiter) => waiter.id === id),
      1,
    );
    this.#forgetIfIdle(key, state);
    return true;
  }

  /** The task of `key` admitted next, without taking it. */
  peek(key: string): KeyWaiter | undefined {
    return this.#keys.get(key)?.waiting[0];
  }

  /**
   * When a slot of `key` is free and a task waits: takes the first waiting task out of the queue
   * and a slot for it, and answers it (the caller starts its run). Otherwise undefined.
   */
  admitNext(key: string): KeyWaiter | undefined {
    const state = this.#keys.get(key);
    const next = state?.waiting[0];
    if (!state || !next || state.running >= this.limit) return undefined;
    state.waiting.shift();
    this.#waitingKey.delete(next.id);
    state.running++;
    return next;
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) {
      state = { running: 0, waiting: [] };
      this.#keys.set(key, state);
    }
    return state;
  }

  #forgetIfIdle(key: string, state: KeyState): void {
    if (state.running === 0 && state.waiting.length === 0) this.#keys.delete(key);
  }
}
