import type { RetryPolicy } from "../../task/index.ts";

/**
 * Delay before retry number `retry` (1 for the first): exponential, capped, with "equal
 * jitter" so that tasks failing together do not retry in lockstep.
 */
export function retryDelayMs(
  policy: Required<RetryPolicy>,
  retry: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, retry - 1));
  const half = exponential / 2;
  return Math.round(half + random() * half);
}
