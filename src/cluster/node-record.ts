/** Whether a node takes work, or has begun its graceful shutdown and hands its tasks back. */
export type NodeStatus = "alive" | "stopping";

/** A kiln process serving a database: on SQLite the one process, on PostgreSQL each member. */
export interface NodeRecord {
  /** `<name>/<8 hex digits>`, fresh on every start: a restarted process is a new node. */
  id: string;
  /** The name given with `--node-name` (or `nodeName`), by default `<host>-<pid>`. */
  name: string;
  host: string;
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms, by the database's clock on PostgreSQL. */
  lastHeartbeatAt: number;
  status: NodeStatus;
  concurrency: number;
  /** Runs holding a concurrency slot on the node (as of its last heartbeat, for another node). */
  running: number;
  /** Whether the node holds the leader's term and runs the cluster's upkeep. */
  leader: boolean;
}
