/**
 * The cluster protocol's SQL. Times are compared only with the database's clock (`NOW_MS`), never
 * a node's: nodes' clocks drift, the database's is one.
 */

/**
 * The claim order, `priority DESC NULLS LAST, id`, with `alias.` before each column when given.
 * Priority is never null, but the ready indexes (tasks_ready, tasks_flow_ready) are built so, and
 * PostgreSQL reads an index for an ORDER BY only when the nulls go the same way. Plain `DESC` means
 * NULLS FIRST, and then every claim sorted the whole backlog: 32 ms a claim at 20,000 ready tasks,
 * against 0.8 through the index.
 */
const claimOrder = (alias?: string) => {
  const column = alias === undefined ? "" : `${alias}.`;
  return `${column}priority DESC NULLS LAST, ${column}id`;
};

/** The database's time in epoch ms. clock_timestamp, not now(): inside a long transaction now() stands still. */
export const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

const START_EVENT = `INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source)
  SELECT id, $5::bigint, 'PENDING', 'RUNNING', 'start', NULL, 'kiln', NULL FROM moved`;

/** What a claim writes to each row it takes, started at `at`. $1 node, $2 lease ms. */
const claimSet = (at: string) => `status = 'RUNNING', node_id = $1, lease_epoch = t.lease_epoch + 1,
  lease_expires_at = ${NOW_MS} + $2::bigint, start_time = ${at}, last_run_time = ${at},
  status_reason = NULL, run_at = NULL, requested_action = NULL, updated_at = ${at}`;

/** $5: the claiming node's time (epoch ms). */
const CLAIM_SET = claimSet("$5::bigint");

/** A ready row: PENDING, waiting for no other task, due, of a name the node runs and not paused. $4 is a JSON array of names. */
const READY = `status = 'PENDING' AND awaiting IS NULL AND (run_at IS NULL OR run_at <= $5::bigint)
  AND task_name IN (SELECT json_array_elements_text($4::json))
  AND task_name NOT IN (SELECT task_name FROM paused_task_types)`;

const FLOW_NAME = "($4::json ->> 0)";
/** The database's time, read once per statement (the `clock` CTE). */
const DB_NOW = "(SELECT now FROM clock)";

/**
 * The claim of one name with flow rules, under its claim lock (`lockName`, taken by the statement
 * before, so this one's snapshot sees every claim of the name committed before it): at most $7
 * RUNNING rows per concurrency key, at most $8 starts per rate key in any $9 ms, at most $6 runs
 * of the name; each rule null when the class has none. $1 node, $2 lease ms, $3 at most this many,
 * $4 the name (a one-name JSON array), $5 the node's time (for run_at), $10 how many candidates.
 *
 * - Counts: RUNNING rows per key, and the name's rate_starts rows per key in the window.
 * - Candidates: ready rows whose keys still have room, the first $10 in priority then age order;
 *   the rows of a full key are left out before the cut, so a long backlog of one key does not
 *   hide the other keys' rows.
 * - Window functions rank the candidates per concurrency key, then (those that fit) per rate key;
 *   a rank plus the key's count within the limit fits. Then the first $3 (and $6 minus the
 *   name's runs) are locked and claimed. A row skipped as locked elsewhere only claims fewer.
 * - The candidates are read through `tasks_flow_ready` (name, priority, id of PENDING rows not held back), in
 *   claim order, so a claim reads about $10 rows and the keys' counts, not the name's backlog.
 * - The starts take the database's clock, as the window is counted in it: one clock for every
 *   node, and the history shows the times the limit was held to. Each start of a rate-limited
 *   name is a rate_starts row; rows out of the window are deleted.
 * - Answers one row per claimed task (tasks.*) and, on each, what holds the name back after this
 *   claim, for the node's wait reasons and its wake-up: the concurrency keys with every slot held
 *   and the rate keys whose window is full, with when the next start may be (at most 1000, the
 *   soonest). With nothing claimed, one row whose task columns are null.
 * - Rows without a stored key (created before their class had the rule) count under "".
 */
const CLAIM_FLOW = `WITH clock AS MATERIALIZED (SELECT ${NOW_MS} AS now),
  running AS MATERIALIZED (
    SELECT coalesce(concurrency_key, '') AS k, count(*) AS n FROM tasks
    WHERE status = 'RUNNING' AND task_name = ${FLOW_NAME} GROUP BY 1
  ), recent AS MATERIALIZED (
    SELECT rate_key AS k, at FROM rate_starts
    WHERE task_name = ${FLOW_NAME} AND $9::bigint IS NOT NULL AND at > ${DB_NOW} - $9::bigint
  ), window_counts AS MATERIALIZED (
    SELECT k, count(*) AS n FROM recent GROUP BY k
  ), candidates AS MATERIALIZED (
    SELECT t.id, t.priority, c.ck, c.rk, coalesce(r.n, 0) AS held, coalesce(w.n, 0) AS started
    FROM tasks t
      CROSS JOIN LATERAL (
        SELECT coalesce(t.concurrency_key, '') AS ck, coalesce(t.rate_key, '') AS rk
      ) c
      LEFT JOIN running r ON r.k = c.ck
      LEFT JOIN window_counts w ON w.k = c.rk
    WHERE t.status = 'PENDING' AND t.awaiting IS NULL AND t.task_name = ${FLOW_NAME}
      AND (t.run_at IS NULL OR t.run_at <= $5::bigint)
      AND t.task_name NOT IN (SELECT task_name FROM paused_task_types)
      AND ($7::bigint IS NULL OR coalesce(r.n, 0) < $7::bigint)
      AND ($8::bigint IS NULL OR coalesce(w.n, 0) < $8::bigint)
    ORDER BY ${claimOrder("t")} LIMIT $10::int
  ), key_fit AS (
    SELECT * FROM (
      SELECT c.*, row_number() OVER (PARTITION BY c.ck ORDER BY ${claimOrder("c")}) AS key_rank
      FROM candidates c
    ) ranked WHERE $7::bigint IS NULL OR key_rank + held <= $7::bigint
  ), fit AS MATERIALIZED (
    SELECT id, priority, ck, rk FROM (
      SELECT f.*, row_number() OVER (PARTITION BY f.rk ORDER BY ${claimOrder("f")}) AS rate_rank
      FROM key_fit f
    ) ranked WHERE $8::bigint IS NULL OR rate_rank + started <= $8::bigint
    ORDER BY ${claimOrder()}
    LIMIT greatest(0, least($3::bigint,
      coalesce($6::bigint - (SELECT coalesce(sum(n), 0) FROM running)::bigint, $3::bigint)))
  ), picked AS MATERIALIZED (
    SELECT t.id, fit.ck, fit.rk FROM fit JOIN tasks t ON t.id = fit.id
    WHERE t.status = 'PENDING' AND t.awaiting IS NULL
    FOR UPDATE OF t SKIP LOCKED
  ), moved AS (
    UPDATE tasks t SET ${claimSet(DB_NOW)} FROM picked WHERE t.id = picked.id RETURNING t.*
  ), event AS (
    INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source)
    SELECT id, ${DB_NOW}, 'PENDING', 'RUNNING', 'start', NULL, 'kiln', NULL FROM moved
  ), took AS (
    SELECT picked.ck, picked.rk FROM picked JOIN moved ON moved.id = picked.id
  ), counted AS (
    INSERT INTO rate_starts (task_name, rate_key, at)
    SELECT ${FLOW_NAME}, rk, ${DB_NOW} FROM took WHERE $8::bigint IS NOT NULL
  ), pruned AS (
    DELETE FROM rate_starts
    WHERE task_name = ${FLOW_NAME} AND $9::bigint IS NOT NULL AND at <= ${DB_NOW} - $9::bigint
  ), full_keys AS (
    SELECT k FROM (SELECT k, n FROM running UNION ALL SELECT ck, 1 FROM took) held
    WHERE $7::bigint IS NOT NULL GROUP BY k HAVING sum(n) >= $7::bigint
  ), rated_keys AS (
    SELECT k, at + $9::bigint AS not_before FROM (
      SELECT k, at, row_number() OVER (PARTITION BY k ORDER BY at DESC) AS newest FROM (
        SELECT k, at FROM recent
        UNION ALL SELECT rk, ${DB_NOW} FROM took WHERE $8::bigint IS NOT NULL
      ) starts
    ) ranked WHERE newest = $8::bigint
  ), summary AS (
    SELECT ${DB_NOW} AS kiln_now,
      (SELECT json_agg(k) FROM full_keys)::text AS kiln_full_keys,
      (SELECT json_agg(json_build_array(k, not_before))
        FROM (SELECT * FROM rated_keys ORDER BY not_before LIMIT 1000) soonest)::text AS kiln_rated_keys
  )
  SELECT summary.*, moved.* FROM summary LEFT JOIN moved ON true ORDER BY ${claimOrder("moved")}`;

export const CLUSTER_SQL = {
  /**
   * $1 node, $2 lease ms, $3 limit, $4 names (JSON), $5 now. SKIP LOCKED: nodes claiming at once
   * take different rows instead of queueing behind each other's locks.
   */
  claimReady: `WITH picked AS MATERIALIZED (
      SELECT id FROM tasks WHERE ${READY}
      ORDER BY ${claimOrder()} LIMIT $3 FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE tasks t SET ${CLAIM_SET} FROM picked WHERE t.id = picked.id RETURNING t.*
    ), event AS (${START_EVENT})
    SELECT * FROM moved ORDER BY ${claimOrder()}`,
  /**
   * Claims of one limited name take turns: this lock is held until the transaction ends. Tried,
   * never waited for: a claim transaction also holds the rows of its other writes (a run's end),
   * which its node's heartbeat renews, so waiting here behind another node's transaction would
   * hold that heartbeat up. A name being claimed elsewhere is skipped and tried again shortly.
   */
  lockName: "SELECT pg_try_advisory_xact_lock(hashtext('kiln.claim'), hashtext($1)) AS locked",
  /**
   * As claimReady for one name ($4 a one-name JSON array), at most $6 runs of it on all nodes.
   * The index is read with the plain `LIMIT $3` and the room left ($6 minus the runs) cut from
   * those rows after: PostgreSQL plans a limit it cannot compute before the statement runs as a
   * tenth of the rows, and then sorted the name's whole backlog for each claim. The rows over the
   * room stay locked until the claim's transaction ends; no other claim of the name runs meanwhile
   * (the name's lock), and with no room at all the one-time filter reads no row.
   */
  claimLimited: `WITH running AS MATERIALIZED (
      SELECT count(*) AS n FROM tasks WHERE status = 'RUNNING' AND task_name = $4::json ->> 0
    ), ready AS MATERIALIZED (
      SELECT id, priority FROM tasks WHERE ${READY} AND (SELECT n FROM running) < $6::bigint
      ORDER BY ${claimOrder()} LIMIT $3 FOR UPDATE SKIP LOCKED
    ), picked AS MATERIALIZED (
      SELECT id FROM ready ORDER BY ${claimOrder()}
      LIMIT greatest(0, $6::bigint - (SELECT n FROM running))
    ), moved AS (
      UPDATE tasks t SET ${CLAIM_SET} FROM picked WHERE t.id = picked.id RETURNING t.*
    ), event AS (${START_EVENT})
    SELECT * FROM moved ORDER BY ${claimOrder()}`,
  claimFlow: CLAIM_FLOW,
  /** $1 name, $2 limit. */
  unkeyedTasks: `SELECT * FROM tasks WHERE task_name = $1 AND status IN ('PENDING', 'PAUSED')
    AND rate_key IS NULL AND concurrency_key IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
  /** $1 a JSON array of { id, rateKey, concurrencyKey }; a row given keys meanwhile keeps them. */
  setTaskKeys: `UPDATE tasks t SET rate_key = k."rateKey", concurrency_key = k."concurrencyKey"
    FROM json_to_recordset($1::json) AS k(id text, "rateKey" text, "concurrencyKey" text)
    WHERE t.id = k.id AND t.rate_key IS NULL AND t.concurrency_key IS NULL`,
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
