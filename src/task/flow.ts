/**
 * Flow-control declarations of a task class, and what `waitFor` gives a parent task.
 *
 * - `static rateLimit = { count: 10, perMs: 60_000 }`: at most `count` runs of the name start in
 *   any window of `perMs` ms; with `key`, the limit holds per key instead (`key: (params) =>
 *   params.customerId`). A task over its limit waits PENDING until it may start; it is not failed.
 * - `static concurrency = 2` limits the runs of the name at once; `static concurrency = { limit:
 *   1, key: (params) => params.customerId }` limits the runs with the same key at once instead
 *   (one import per customer at a time), the others of that key waiting in priority order.
 *
 * A key function runs once, on kiln's main thread, when the task is created, with the params as
 * validated (schema defaults filled in); the key is stored with the task, so every node and every
 * restart sees the same one. It must return a non-empty string of at most 200 characters and must
 * not throw: a create whose key function does either is refused like one with invalid params.
 * Write `satisfies RateLimitDeclaration<Params>` after the object to have `params` typed.
 */
import type { TaskError } from "./errors.ts";

/** A key function's params are the task's own; `any` so that a class can name its Params type. */
// biome-ignore lint/suspicious/noExplicitAny: a static cannot see the class's Params, so the default must accept any key function.
type AnyParams = any;

export interface RateLimitDeclaration<Params = AnyParams> {
  /** Most starts in any window of `perMs` ms: an integer from 1 to 10,000. */
  count: number;
  /** The window, in ms: an integer from 1 to 86,400,000 (one day). */
  perMs: number;
  /** The limit holds per key computed from the params; without it, for the whole task name. */
  key?: (params: Params) => string;
}

export interface KeyConcurrencyDeclaration<Params = AnyParams> {
  /** Most runs with the same key at once: an integer from 1 to 10,000. */
  limit: number;
  /** The key the limit counts by, computed from the params. */
  key: (params: Params) => string;
}

/** A number limits the runs of the task name at once; an object limits them per key. */
export type ConcurrencyDeclaration<Params = AnyParams> = number | KeyConcurrencyDeclaration<Params>;

/**
 * One child's outcome, as `waitFor(ids)` gives it once every child has ended, in the order the
 * ids were given. `DELETED` is not a task status: the child ended and was deleted (by a client
 * or by retention) before the parent read it, so its result is gone.
 */
export type ChildOutcome<Result = unknown> =
  | { id: string; status: "FINISHED"; result: Result }
  | { id: string; status: "FAILED"; error: TaskError }
  | { id: string; status: "STOPPED"; reason: string | null }
  | { id: string; status: "DELETED" };
