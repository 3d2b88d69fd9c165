/** How a task that throws is tried again. */
export interface RetryPolicy {
  /** Total runs allowed, the first included (1 = never retry). */
  attempts: number;
  /** Delay before the first retry; each later one doubles it (with jitter). */
  backoffMs?: number;
  /** Cap on a single delay. */
  maxBackoffMs?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { attempts: 1, backoffMs: 1_000, maxBackoffMs: 300_000 };

/**
 * Isolation of a task run. `"worker"` (the default) runs it on a pooled Bun Worker thread.
 * Kept as a union so further modes can be added without changing task classes.
 */
export type TaskIsolation = "worker";
