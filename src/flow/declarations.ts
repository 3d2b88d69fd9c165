/**
 * A task class's flow declarations (`static rateLimit`, `static concurrency`) checked together
 * for registration, and the keys a new task of the class gets.
 *
 * - Both are checked at registration, and all problems reported at once, each naming
 *   `rateLimit.field` or `concurrency.field`, so a bad class fails at start-up, not at run time.
 * - `taskKeysOf` runs the key functions once, on the validated params, when the task is created
 *   (keys.ts); a refusal names the task and the declaration. Without a key function, a rate
 *   limit's key is NAME_WIDE_KEY and the per-name concurrency has no key (null).
 */
import type { FlowFieldError } from "./declaration-fields.ts";
import { type ConcurrencyRule, checkConcurrency } from "./key-concurrency.ts";
import { computeKey, NAME_WIDE_KEY } from "./keys.ts";
import { checkRateLimit, type RateLimitRule } from "./rate-limit.ts";

export interface FlowRules {
  rateLimit: RateLimitRule | null;
  concurrency: ConcurrencyRule | null;
}

export type FlowRulesCheck = { ok: true; rules: FlowRules } | { ok: false; errors: FlowFieldError[] };

/** Checks a class's `static rateLimit` and `static concurrency` (anything: user code). */
export function checkFlowDeclarations(cls: { rateLimit?: unknown; concurrency?: unknown }): FlowRulesCheck {
  const rateLimit = checkRateLimit(cls.rateLimit);
  const concurrency = checkConcurrency(cls.concurrency);
  if (rateLimit.ok && concurrency.ok) {
    return { ok: true, rules: { rateLimit: rateLimit.rule, concurrency: concurrency.rule } };
  }
  return {
    ok: false,
    errors: [...(rateLimit.ok ? [] : rateLimit.errors), ...(concurrency.ok ? [] : concurrency.errors)],
  };
}

/** The keys stored with a new task: null where the class declares no keyed limit. */
export interface TaskKeys {
  /** NAME_WIDE_KEY for a rate limit without a key function. */
  rateKey: string | null;
  concurrencyKey: string | null;
}

export type TaskKeysOutcome = ({ ok: true } & TaskKeys) | { ok: false; message: string };

/** The keys of a task of `taskName` with these (validated) params. Never throws. */
export function taskKeysOf(taskName: string, rules: FlowRules, params: unknown): TaskKeysOutcome {
  let rateKey: string | null = null;
  if (rules.rateLimit) {
    if (rules.rateLimit.key === null) {
      rateKey = NAME_WIDE_KEY;
    } else {
      const outcome = computeKey(rules.rateLimit.key, params, `static rateLimit.key of "${taskName}"`);
      if (!outcome.ok) return outcome;
      rateKey = outcome.key;
    }
  }
  let concurrencyKey: string | null = null;
  if (rules.concurrency?.kind === "key") {
    const outcome = computeKey(rules.concurrency.key, params, `static concurrency.key of "${taskName}"`);
    if (!outcome.ok) return outcome;
    concurrencyKey = outcome.key;
  }
  return { ok: true, rateKey, concurrencyKey };
}
