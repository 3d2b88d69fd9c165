import { retryDelayMs } from "../queue/backoff.ts";

/**
 * The first delay, the cap, and how long a run must have lasted for its own restart to start a
 * new streak: a task that restarts itself now and then, after real work, is not held back.
 */
const SELF_RESTART_BACKOFF = { attempts: Number.POSITIVE_INFINITY, backoffMs: 100, maxBackoffMs: 60_000 };
const STREAK_ENDS_AFTER_MS = 60_000;

/**
 * Restarts a task asks of itself (`this.restart()`), counted per task while they come in a
 * row. Each is honoured, but the next run waits: 0.1 s, then doubling up to a minute (with
 * jitter, as retries). Without it, a task that restarts itself on every run spun through
 * thousands of runs a second. A run that ends any other way, a run that lasted a minute, or
 * an operator's stop or restart ends the streak.
 */
export class SelfRestarts {
  readonly #streaks = new Map<string, number>();

  /** A run of task `id` that ran `ranMs` asked to restart: how long the next run waits. */
  next(id: string, ranMs: number): { delayMs: number; inARow: number } {
    const inARow = ranMs >= STREAK_ENDS_AFTER_MS ? 1 : (this.#streaks.get(id) ?? 0) + 1;
    this.#streaks.set(id, inARow);
    return { delayMs: retryDelayMs(SELF_RESTART_BACKOFF, inARow), inARow };
  }

  /** The streak of task `id` is over. */
  forget(id: string): void {
    this.#streaks.delete(id);
  }
}
