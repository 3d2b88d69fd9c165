/**
 * The starts that seed a rate limit's window when a kiln alone on its SQLite file starts (on
 * PostgreSQL the claims count them in `rate_starts` and need no seed).
 *
 * - A start is a task's `start` history row (a retry and a resume from PAUSED at rest are new
 *   starts; a parked run going on is a `resume` row and is not one), counted under the task's
 *   stored `rate_key`.
 * - Cost: the partial index `tasks_rate_last_run` (task_name, last_run_time, rate-limited rows
 *   only) finds the tasks of the name that ran lately; each one's history is read by task. While
 *   the limit held, that is at most `count` tasks per key in the window, about what the window
 *   keeps in memory anyway. Only the newest `count` starts per key are answered.
 * - `last_run_time` is the engine's time of the start, a little before the history row's `at`
 *   (the same transaction): tasks are looked up from `LAST_RUN_SLACK_MS` before the window.
 * - A task stored without `rate_key` (created before its class had the rate limit) is not seen;
 *   only its starts in the first window after such a change can be missed.
 */

/** Start events whose task's `last_run_time` is older than the window by up to this much are still read. */
export const LAST_RUN_SLACK_MS = 10_000;

export interface RateStart {
  rateKey: string;
  /** Epoch ms of the start, as in the history. */
  at: number;
}

/** ?1 task name, ?2 the window's start minus LAST_RUN_SLACK_MS, ?3 the window's start, ?4 count. */
export const RECENT_RATE_STARTS_SQL = `SELECT rate_key, at FROM (
    SELECT t.rate_key AS rate_key, e.at AS at,
      row_number() OVER (PARTITION BY t.rate_key ORDER BY e.at DESC) AS newest
    FROM tasks t INDEXED BY tasks_rate_last_run
      JOIN task_events e ON e.task_id = t.id
    WHERE t.task_name = ?1 AND t.rate_key IS NOT NULL AND t.last_run_time > ?2
      AND e.action = 'start' AND e.at > ?3
  ) WHERE newest <= ?4 ORDER BY at`;
