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
 * Where a task run executes. `"worker"` (the default) runs it on a pooled Bun Worker thread:
 * cheap to start, but it shares the process's memory, and the worker goes on to run other
 * tasks with whatever the run left on its global object. `"fresh"` runs each run on a worker
 * thread of its own, ended after the run, so no run sees another's globals. `"process"` runs
 * each run in a child process of the same executable, so its memory cap is measured on the
 * process's real resident size and a runaway ends without touching anything else.
 */
export type TaskIsolation = "worker" | "fresh" | "process";

/** Every `TaskIsolation`, for validation. */
export const TASK_ISOLATIONS: readonly TaskIsolation[] = ["worker", "fresh", "process"];
