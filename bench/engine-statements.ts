// The engine's SQLite statement texts for a task's create, start and end, as it runs them
// (bench/sqlite-statements.ts prints them for any kiln process), and the history row each writes:
// what the benches that rebuild a run without the engine write to a kiln file.
import type { NewTaskEvent } from "../src/store/records.ts";
import type { EventAction, TaskStatus } from "../src/task/index.ts";

export const INSERT_TASK =
  "INSERT INTO tasks (id, task_name, status, params, priority, run_at, idempotency_key, tags, traceparent, request_id, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
export const START =
  "UPDATE tasks SET status = ?, last_run_time = ?, status_reason = ?, run_at = ?, requested_action = ?, start_time = coalesce(start_time, ?), updated_at = ? WHERE id = ? AND status IN (?)";
export const END =
  "UPDATE tasks SET status = ?, result = ?, end_time = ?, requested_action = ?, status_reason = ?, error = ?, active_ms = active_ms + ?, updated_at = ? WHERE id = ? AND status IN (?)";

/** A history row of the kind each of the engine's transitions writes. */
export function historyRow(from: TaskStatus | null, to: TaskStatus, action: EventAction): NewTaskEvent {
  return { fromStatus: from, toStatus: to, action, reason: null, actor: null, source: null };
}
