/**
 * Rate limits: `static rateLimit = { count, perMs, key? }`, checked, and the decision whether a
 * task may start now. Pure: the caller passes the starts and the time.
 *
 * Rules:
 * - `count`: an integer from 1 to MAX_RATE_COUNT (10,000); `perMs`: an integer from 1 to
 *   MAX_RATE_PER_MS (one day); `key`: a function (see keys.ts for what it must return). No other
 *   field: a misspelled one is an error naming the field meant.
 * - Sliding window: never more than `count` starts in any window of `perMs` ms. A start at `t`
 *   is allowed when fewer than `count` starts were admitted in `(t - perMs, t]`; otherwise the
 *   task may start at `notBefore = s + perMs`, where `s` is the `count`-th newest start, the
 *   first time at which that window holds `count - 1`. A start is counted when the run starts
 *   (RUNNING), not when the task is created; a retry or a resume is a new start, a resume from a
 *   pause at a checkpoint is not (it was admitted already).
 * - The time never runs backwards: a `now` before the newest admitted start (a clock stepped
 *   back, another node's clock ahead) is taken as that start, so a step back opens no room.
 * - Only the newest `count` starts of a key decide anything, so `RateLimiter` keeps at most those,
 *   and none older than `perMs`; a key with none left is forgotten by a sweep, run after as many
 *   calls as the keys the previous sweep kept (at least 64): at most about twice the keys with
 *   starts in the last window stay in memory, whatever the number of keys ever seen.
 */
import {
  describeValue,
  type FlowFieldError,
  integerProblem,
  isRecord,
  unknownFieldErrors,
} from "./declaration-fields.ts";

export const MAX_RATE_COUNT = 10_000;
export const MAX_RATE_PER_MS = 86_400_000;

const FIELDS = ["count", "perMs", "key"] as const;
const MEANT: Record<string, string> = {
  limit: "count",
  max: "count",
  per: "perMs",
  perSecond: "perMs",
  perSeconds: "perMs",
  windowMs: "perMs",
  intervalMs: "perMs",
  duration: "perMs",
  keyOf: "key",
};

/** A checked rate limit. */
export interface RateLimitRule {
  count: number;
  perMs: number;
  /** The class's key function; null: one limit for the whole task name. */
  key: ((params: unknown) => unknown) | null;
}

export type RateLimitCheck =
  | { ok: true; rule: RateLimitRule | null }
  | { ok: false; errors: FlowFieldError[] };

/** Checks a class's `static rateLimit` (anything: it comes from user code). `undefined` is none. */
export function checkRateLimit(declaration: unknown, field = "rateLimit"): RateLimitCheck {
  if (declaration === undefined) return { ok: true, rule: null };
  if (!isRecord(declaration)) {
    return {
      ok: false,
      errors: [
        {
          field,
          message: `must be an object such as { count: 10, perMs: 60000 }, got ${describeValue(declaration)}`,
        },
      ],
    };
  }
  const errors = unknownFieldErrors(declaration, FIELDS, MEANT, `${field}.`);
  const countProblem = integerProblem(declaration.count, 1, MAX_RATE_COUNT);
  if (countProblem) errors.push({ field: `${field}.count`, message: countProblem });
  const perMsProblem = integerProblem(declaration.perMs, 1, MAX_RATE_PER_MS);
  if (perMsProblem) errors.push({ field: `${field}.perMs`, message: `${perMsProblem} (ms)` });
  const { key } = declaration;
  if (key !== undefined && typeof key !== "function") {
    errors.push({
      field: `${field}.key`,
      message: `must be a function of the params returning a string, got ${describeValue(key)}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    rule: {
      count: declaration.count as number,
      perMs: declaration.perMs as number,
      key: (key as RateLimitRule["key"] | undefined) ?? null,
    },
  };
}

export type RateDecision =
  | { start: true }
  | {
      start: false;
      /** The earliest time the task may start: its `runAt` while it waits. */
      notBefore: number;
      /** Why it waits, for the task's status reason. */
      reason: string;
    };

type Window = Pick<RateLimitRule, "count" | "perMs">;

/** What a task held back by its rate limit shows until `notBefore`. */
export function rateWaitReason(rule: Window, key: string, notBefore: number): string {
  const per = `${rule.count} start${rule.count === 1 ? "" : "s"} per ${rule.perMs} ms`;
  const of = key === "" ? "" : ` for key ${JSON.stringify(key)}`;
  return `rate limit of ${per}${of} reached; may start at ${new Date(notBefore).toISOString()}`;
}

/**
 * Whether a task may start at `now`, given the starts admitted for its key (ascending; older
 * ones are ignored). `key` only shapes the reason.
 */
export function decideRateLimit(
  rule: Window,
  starts: readonly number[],
  now: number,
  key = "",
): RateDecision {
  const newest = starts.at(-1);
  const at = newest !== undefined && newest > now ? newest : now;
  const from = starts.length - rule.count;
  // Fewer than `count` starts at all, or the count-th newest is out of the window (t - perMs, t].
  if (from < 0) return { start: true };
  const countThNewest = starts[from] as number;
  if (countThNewest <= at - rule.perMs) return { start: true };
  const notBefore = countThNewest + rule.perMs;
  return { start: false, notBefore, reason: rateWaitReason(rule, key, notBefore) };
}

/** Calls between two sweeps of idle keys, at least; more when there are more keys. */
const SWEEP_EVERY = 64;

/**
 * One task name's rate limit in memory: the starts admitted per key, for a single node (on
 * several nodes the starts are read from the store and `decideRateLimit` is called on them).
 */
export class RateLimiter {
  readonly #windows = new Map<string, number[]>();
  #callsSinceSweep = 0;
  /** Calls until the next sweep: the keys kept by the last one, at least SWEEP_EVERY. */
  #sweepAfter = SWEEP_EVERY;

  constructor(readonly rule: Window) {}

  /** Keys with starts in memory. */
  get keyCount(): number {
    return this.#windows.size;
  }

  /** The starts kept for `key`, ascending. */
  starts(key: string): readonly number[] {
    return this.#windows.get(key) ?? [];
  }

  /** Whether a task of `key` may start at `now`, without recording anything. */
  check(key: string, now: number): RateDecision {
    return decideRateLimit(this.rule, this.starts(key), now, key);
  }

  /** Decides, and records the start when the answer is to start. */
  tryStart(key: string, now: number): RateDecision {
    const decision = this.check(key, now);
    if (decision.start) this.record(key, Math.max(now, this.starts(key).at(-1) ?? now));
    return decision;
  }

  /**
   * Records a start made elsewhere: found in the history at start-up, or by `tryStart`. Keeps
   * the newest `count`, in order.
   */
  record(key: string, at: number): void {
    this.#maybeSweep(at);
    let window = this.#windows.get(key);
    if (!window) {
      window = [];
      this.#windows.set(key, window);
    }
    let index = window.length;
    while (index > 0 && (window[index - 1] as number) > at) index--;
    window.splice(index, 0, at);
    if (window.length > this.rule.count) window.splice(0, window.length - this.rule.count);
  }

  /** Drops the starts older than the window as of `now`, and the keys left with none. */
  sweep(now: number): void {
    this.#callsSinceSweep = 0;
    for (const [key, window] of this.#windows) {
      let old = 0;
      while (old < window.length && (window[old] as number) <= now - this.rule.perMs) old++;
      if (old === window.length) this.#windows.delete(key);
      else if (old > 0) window.splice(0, old);
    }
    this.#sweepAfter = Math.max(SWEEP_EVERY, this.#windows.size);
  }

  // Sweeping after as many calls as the keys it kept costs O(1) per call on average, and leaves
  // at most twice the keys of the last window (plus SWEEP_EVERY) in memory.
  #maybeSweep(now: number): void {
    if (++this.#callsSinceSweep >= this.#sweepAfter) this.sweep(now);
  }
}
