// What the benches that rebuild a run without the engine share: the connection's PRAGMAs and the
// SQLite statement texts for a task's create, start and end as the engine runs them
// (bench/sqlite-statements.ts prints them for any kiln process), the history row each writes, and
// a worker that runs a no-op task.
import type { Database } from "bun:sqlite";
import type { NewTaskEvent } from "../src/store/records.ts";
import { PAGE_CACHE_KIB } from "../src/store/sqlite-connection.ts";
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

/** The engine's PRAGMAs on its one connection, the WAL left to a checkpointer on another thread. */
export function useKilnPragmas(db: Database): void {
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA wal_autocheckpoint = 0");
}

/**
 * A Bun Worker's code for a no-op task: it reads the `run` message (JSON text, as the engine sends
 * it) and sends its end back as text. Load it from a Blob URL.
 */
export const ECHO_WORKER = `
self.onmessage = (event) => {
  const run = JSON.parse(event.data);
  postMessage(JSON.stringify({ type: "finished", taskId: run.taskId, resultJson: "null" }));
};
`;
