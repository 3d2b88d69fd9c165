/**
 * The cluster protocol's SQL. Times are compared only with the database's clock (`NOW_MS`), never
 * a node's: nodes' clocks drift, the database's is one.
 */

/** The database's time in epoch ms. clock_timestamp, not now(): inside a long transaction now() stands still. */
export const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

const START_EVENT = `INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source)
  SELECT id, $5::bigint, 'PENDING', 'RUNNING', 'start', NULL, 'kiln', NULL FROM moved`;

/** What a claim writes to each row it takes. $1 node, $2 lease ms, $5 now (epoch ms). */
const CLAIM_SET = `status = 'RUNNING', node_id = $1, lease_epoch = t.lease_epoch + 1,
  lease_expires_at = ${NOW_MS} + $2::bigint, start_time = $5::bigint, last_run_time = $5::bigint,
  status_reason = NULL, run_at = NULL, requested_action = NULL, updated_at = $5::bigint`;

/** A ready row: PENDING, due, of a name the node runs and not paused. $4 is a JSON array of names. */
const READY = `status = 'PENDING' AND (run_at IS NULL OR run_at <= $5::bigint)
  AND task_name IN (SELECT json_array_elements_text($4::json))
  AND task_name NOT IN (SELECT task_name FROM paused_task_types)`;

export const CLUSTER_SQL = {
  /**
   * $1 node, $2 lease ms, $3 limit, $4 names (JSON), $5 now. SKIP LOCKED: nodes claiming at once
   * take different rows instead of queueing behind each other's locks.
   */
  claimReady: `WITH picked AS MATERIALIZED (
      SELECT id FROM tasks WHERE ${READY}
      ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE tasks t SET ${CLAIM_SET} FROM picked WHERE t.id = picked.id RETURNING t.*
    ), event AS (${START_EVENT})
    SELECT * FROM moved ORDER BY priority DESC, id`,
  /** Claims of one capped name take turns: this lock is held until the transaction ends. */
  lockName: "SELECT pg_advisory_xact_lock(hashtext('kiln.claim'), hashtext($1)) AS locked",
  /** As claimReady for one name ($4 a one-name JSON array), at most $6 runs of it on all nodes. */
  claimLimited: `WITH running AS (
      SELECT count(*) AS n FROM tasks WHERE status = 'RUNNING' AND task_name = $4::json ->> 0
    ), picked AS MATERIALIZED (
      SELECT id FROM tasks WHERE ${READY}
      ORDER BY priority DESC, id
      LIMIT greatest(0, least($3::bigint, $6::bigint - (SELECT n FROM running))) FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE tasks t SET ${CLAIM_SET} FROM picked WHERE t.id = picked.id RETURNING t.*
    ), event AS (${START_EVENT})
    SELECT * FROM moved ORDER BY priority DESC, id`,
  /** Ready rows of the names in $4, locked for a decision the node makes ($3 at most; $1, $2 unused). */
  lockReady: `SELECT * FROM tasks WHERE ${READY} AND $1::text IS NOT NULL AND $2::bigint IS NOT NULL
    ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
  /** Claims the rows in $4 (a JSON array of ids, locked by lockReady in this transaction). */
  claimIds: `WITH picked AS (
      SELECT id FROM tasks WHERE status = 'PENDING' AND $3::int IS NOT NULL
        AND id IN (SELECT json_array_elements_text($4::json))
    ), moved AS (
      UPDATE tasks t SET ${CLAIM_SET} FROM picked WHERE t.id = picked.id RETURNING t.*
    ), event AS (${START_EVENT})
    SELECT * FROM moved ORDER BY priority DESC, id`,
  lockExpiredLeases: `SELECT * FROM tasks WHERE status = 'RUNNING' AND lease_expires_at < ${NOW_MS}
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
  registerNode: `INSERT INTO nodes (id, name, host, pid, started_at, last_heartbeat_at, status, concurrency, running)
    VALUES ($1, $2, $3, $4, $5, ${NOW_MS}, 'alive', $6, 0)
    ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = ${NOW_MS}, status = 'alive'`,
  /**
   * $1 node, $2 running, $3 lease ms, $4 held runs as a JSON array of [id, epoch]. The node's row
   * and its leases in one statement; a run whose row no longer has this node and epoch (taken by
   * another node) is not renewed, and its absence from the answer tells the node it is lost.
   */
  heartbeat: `WITH me AS (
      UPDATE nodes SET last_heartbeat_at = ${NOW_MS}, running = $2 WHERE id = $1 RETURNING id
    ), held AS (
      SELECT h ->> 0 AS id, (h ->> 1)::int AS epoch FROM json_array_elements($4::json) AS h
    ), renewed AS (
      UPDATE tasks t SET lease_expires_at = ${NOW_MS} + $3::bigint
      FROM held, me
      WHERE t.id = held.id AND t.lease_epoch = held.epoch AND t.node_id = me.id AND t.status = 'RUNNING'
      RETURNING t.id, t.requested_action
    )
    SELECT (SELECT count(*) FROM me) AS registered, (SELECT count(*) FROM nodes) AS nodes,
      coalesce((SELECT json_agg(json_build_array(id, requested_action)) FROM renewed), '[]')::text AS renewed`,
  setNodeStatus: "UPDATE nodes SET status = $2 WHERE id = $1",
  deregisterNode: `WITH gone AS (DELETE FROM nodes WHERE id = $1 RETURNING id)
    DELETE FROM leader WHERE node_id = $1`,
  retireNode: `WITH gone AS (DELETE FROM nodes WHERE id = $1 RETURNING id),
    resigned AS (DELETE FROM leader WHERE node_id = $1 RETURNING 1)
    UPDATE tasks SET lease_expires_at = 0 WHERE node_id = $1 AND status = 'RUNNING'`,
  /** A node gone silent: its row and term go; its runs' leases run out by themselves. */
  removeNode: `WITH gone AS (DELETE FROM nodes WHERE id = $1 RETURNING id)
    DELETE FROM leader WHERE node_id = $1`,
  serverUptime: `SELECT (extract(epoch from clock_timestamp() - pg_postmaster_start_time()) * 1000)::bigint AS ms`,
  silentNodes: `SELECT id FROM nodes WHERE last_heartbeat_at < ${NOW_MS} - $1::bigint`,
  listNodes: `SELECT n.id, n.name, n.host, n.pid, n.started_at AS "startedAt",
      n.last_heartbeat_at AS "lastHeartbeatAt", n.status, n.concurrency, n.running,
      coalesce(l.node_id = n.id AND l.expires_at > ${NOW_MS}, false) AS leader
    FROM nodes n LEFT JOIN leader l ON l.name = 'kiln' ORDER BY n.started_at, n.id`,
  /**
   * Elects or re-elects: the row is taken when there is none or its term has ended, renewed when
   * it is this node's. An answer with no row: another node leads.
   */
  claimLeadership: `INSERT INTO leader (name, node_id, elected_at, expires_at)
    VALUES ('kiln', $1, ${NOW_MS}, ${NOW_MS} + $2::bigint)
    ON CONFLICT (name) DO UPDATE SET node_id = $1, expires_at = ${NOW_MS} + $2::bigint,
      elected_at = CASE WHEN leader.node_id = $1 THEN leader.elected_at ELSE ${NOW_MS} END
    WHERE leader.node_id = $1 OR leader.expires_at < ${NOW_MS}
    RETURNING node_id`,
  notify: "SELECT pg_notify($1, $2)",
  progressOf: `SELECT id, progress::text AS progress, updated_at AS "updatedAt" FROM tasks
    WHERE id IN (SELECT json_array_elements_text($1::json)) AND progress IS NOT NULL`,
  logsOf: `SELECT id, task_id AS "taskId", at, level, message FROM task_logs
    WHERE task_id IN (SELECT json_array_elements_text($1::json)) AND id > $2 ORDER BY id LIMIT 2000`,
  eventsOf: `SELECT e.id AS e_id, e.task_id AS e_task_id, e.at AS e_at, e.from_status AS e_from,
      e.to_status AS e_to, e.action AS e_action, e.reason AS e_reason, e.actor AS e_actor,
      e.source AS e_source, t.*
    FROM task_events e JOIN tasks t ON t.id = e.task_id
    WHERE e.task_id IN (SELECT json_array_elements_text($1::json)) AND e.id > $2
    ORDER BY e.id`,
} as const;
