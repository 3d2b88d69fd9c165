import { ACTIVE_STATUSES, FINAL_STATUSES } from "../../task/index.ts";

/**
 * The fixed SQL of the PostgreSQL store. Each text is prepared once per connection by
 * postgres.js (its statement cache is keyed by the text), so none is built per call.
 */

const inList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(", ");
const ACTIVE = inList(ACTIVE_STATUSES);
const FINAL = inList(FINAL_STATUSES);

/** The event columns an INSERT … SELECT fills from parameters, typed (nothing infers them there). */
export const EVENT_VALUES = (first: number) =>
  `$${first}::bigint, $${first + 1}::text, $${first + 2}::text, $${first + 3}::text, ` +
  `$${first + 4}::text, $${first + 5}::text, $${first + 6}::text`;

/** How many parameters EVENT_VALUES takes. */
const EVENT_PARAMS = 7;

const EVENT_INSERT = (source: string, first: number) =>
  `INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source)
   SELECT id, ${EVENT_VALUES(first)} FROM ${source}`;

/**
 * A guarded move and its event in one statement (one round trip, atomic on its own): the event
 * is written only when the UPDATE matched. `set` holds $1…$n; the id, the statuses and the
 * event follow.
 */
export function transitionSql(set: string, setParams: number, fromCount: number, fenced = false): string {
  const id = setParams + 1;
  const from = Array.from({ length: fromCount }, (_, i) => `$${id + 1 + i}`).join(", ");
  let guard = fromCount === 0 ? "false" : `status IN (${from})`;
  const eventFirst = id + 1 + fromCount + (fenced ? 2 : 0);
  // The fence's node and epoch follow the statuses: the row must still be that claim's.
  if (fenced) guard += ` AND node_id = $${id + 1 + fromCount} AND lease_epoch = $${id + 2 + fromCount}`;
  return `WITH moved AS (UPDATE tasks SET ${set} WHERE id = $${id} AND ${guard} RETURNING *),
  event AS (${EVENT_INSERT("moved", eventFirst)})
  SELECT * FROM moved`;
}

/** An update with an event, in one statement; without one, a plain UPDATE. */
export function updateSql(set: string, setParams: number, withEvent: boolean): string {
  const id = setParams + 1;
  if (!withEvent) return `UPDATE tasks SET ${set} WHERE id = $${id} RETURNING *`;
  return `WITH moved AS (UPDATE tasks SET ${set} WHERE id = $${id} RETURNING *),
  event AS (${EVENT_INSERT("moved", id + 1)})
  SELECT * FROM moved`;
}

/**
 * A new task and its event in one statement; `columns` are the task's, created_at and updated_at
 * last. With `paramFields`, the parameter after the event's is a JSON array of the task's
 * searchable params fields ({path, value}), written into task_params in the same statement.
 */
export function createSql(columns: readonly string[], paramFields = false): string {
  const values = columns.map((_, i) => `$${i + 1}`).join(", ");
  const eventFirst = columns.length + 1;
  const fields = paramFields
    ? `,
  fields AS (INSERT INTO task_params (task_id, path, value)
    SELECT created.id, f.path, f.value
    FROM created, json_to_recordset($${eventFirst + EVENT_PARAMS}::json) AS f(path text, value text))`
    : "";
  return `WITH created AS (INSERT INTO tasks (${columns.join(", ")}) VALUES (${values}) RETURNING *),
  event AS (${EVENT_INSERT("created", eventFirst)})${fields}
  SELECT * FROM created`;
}

export const SQL = {
  getTask: "SELECT * FROM tasks WHERE id = $1",
  findByIdempotencyKey: "SELECT * FROM tasks WHERE idempotency_key = $1",
  idsInRange: "SELECT id FROM tasks WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
  idsFrom: "SELECT id FROM tasks WHERE id >= $1 ORDER BY id LIMIT $2",
  listActive: `SELECT * FROM tasks WHERE status IN (${ACTIVE}) ORDER BY id`,
  listEvents: `SELECT id, task_id AS "taskId", at, from_status AS "fromStatus", to_status AS "toStatus",
    action, reason, actor, source FROM task_events WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
  listLogs: `SELECT id, task_id AS "taskId", at, level, message
    FROM task_logs WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
  /**
   * One tick of telemetry in one statement. $1 is a JSON array of per-task changes (progress,
   * checkpoint, each with a flag saying it is there), $2 a JSON array of log lines. The one
   * UPDATE covers both columns: two UPDATEs of a row in one statement would not see each other.
   * A checkpoint lands only while the task is live. Lines of a task that is gone are dropped.
   * (No row lock on the task for its lines: a row this statement also updates would then be
   * skipped, and its lines lost. A delete committed in between fails the foreign key instead,
   * and the store writes the batch again.)
   */
  writeTelemetry: `WITH changed AS (
    UPDATE tasks SET
      progress = CASE WHEN x.has_progress THEN x.progress ELSE tasks.progress END,
      checkpoint = CASE WHEN x.has_checkpoint AND tasks.status IN (${ACTIVE})
        THEN x.checkpoint::json ELSE tasks.checkpoint END
    FROM json_to_recordset($1::json) AS x(id text, has_progress boolean, progress json,
      has_checkpoint boolean, checkpoint text, node text, epoch int)
    WHERE tasks.id = x.id AND (x.node IS NULL OR (tasks.node_id = x.node AND tasks.lease_epoch = x.epoch))
    RETURNING 1
  ), logged AS (
    INSERT INTO task_logs (task_id, at, level, message)
    SELECT line.task_id, line.at, line.level, line.message
    FROM ROWS FROM (json_to_recordset($2::json) AS (task_id text, at bigint, level text, message text))
      WITH ORDINALITY AS line(task_id, at, level, message, n)
    JOIN tasks ON tasks.id = line.task_id
    ORDER BY line.n
    RETURNING 1
  ) SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM logged) AS logged`,
  deleteTask: `DELETE FROM tasks WHERE id = $1 AND status IN (${FINAL}) RETURNING id`,
  /**
   * As SQLite's: ids are UUIDv7, so only ids below the cutoff's floor can have ended before it,
   * and the (status, id) index finds them. Rows another transaction holds are left for the
   * next pass. Events and logs go with their task (ON DELETE CASCADE). The batch is picked in a
   * materialized CTE, evaluated once: as `id IN (SELECT … LIMIT …)` the planner may rescan the
   * subquery for each row it deletes (a nested-loop semi-join), and each rescan skips the rows
   * this statement has already deleted and takes the next ones, deleting past the limit.
   */
  deleteEndedBefore: `WITH doomed AS MATERIALIZED (
      SELECT id FROM tasks WHERE status IN (${FINAL}) AND id < $1 AND end_time < $2 LIMIT $3
      FOR UPDATE SKIP LOCKED
    ) DELETE FROM tasks t USING doomed WHERE t.id = doomed.id AND t.status IN (${FINAL})
    RETURNING t.id, t.status, t.task_name AS name`,
  newest: "SELECT * FROM tasks ORDER BY id DESC LIMIT 100",
  countByStatus: "SELECT status, count(*) AS count FROM tasks GROUP BY status",
  scanStatusAndName: "SELECT id, status, task_name AS name FROM tasks WHERE id > $1 ORDER BY id LIMIT $2",
  /**
   * task_events.at has no index, but events are appended in time order, so `at` grows with the
   * id: a binary search over the primary key (in SQL, so one round trip) finds the first event at
   * or after `since` ($1), and only the events from there on are read. $2 is the bucket width.
   */
  countEndedSince: `WITH RECURSIVE search(lo, hi) AS (
      SELECT min(id), max(id) + 1 FROM task_events
      UNION ALL
      SELECT CASE WHEN probe.at < $1 THEN probe.id + 1 ELSE search.lo END,
             CASE WHEN probe.at IS NULL OR probe.at >= $1 THEN (search.lo + search.hi) / 2 ELSE search.hi END
      FROM search LEFT JOIN LATERAL (
        SELECT id, at FROM task_events WHERE id >= (search.lo + search.hi) / 2 ORDER BY id LIMIT 1
      ) probe ON true
      WHERE search.lo < search.hi
    ), start AS (SELECT max(lo) AS id FROM search)
    SELECT (at / $2) * $2 AS bucket, to_status AS status, count(*) AS count
    FROM task_events, start
    WHERE task_events.id >= start.id AND at >= $1 AND to_status IN (${FINAL})
    GROUP BY bucket, status ORDER BY bucket, status`,
} as const;
