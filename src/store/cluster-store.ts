import type { NodeIdentity } from "../cluster/node-identity.ts";
import type { NodeRecord, NodeStatus } from "../cluster/node-record.ts";
import type { RequestedAction } from "../task/index.ts";
import type { TaskEventRecord, TaskLogRecord, TaskProgress, TaskRecord } from "./records.ts";

/** A run a node holds: the task and the epoch of its claim. */
export interface HeldRun {
  id: string;
  epoch: number;
}

/** What a heartbeat learns. */
export interface HeartbeatReply {
  /** False when the node's row is gone (another node took it for dead): every lease is lost. */
  registered: boolean;
  /** The runs whose leases were renewed, with what was asked of each; a held run not here is lost. */
  renewed: Map<string, RequestedAction | null>;
  /** Registered nodes, this one included. */
  nodes: number;
}

/** A notification from another node (or this one: callers skip their own). */
export interface ClusterMessage {
  channel: ClusterChannel;
  payload: string;
}

/**
 * The channels kiln listens on: "ready" (tasks may be claimed), "control" (a request for a run
 * on some node), "events" (history rows other nodes should show).
 */
export type ClusterChannel = "kiln_ready" | "kiln_control" | "kiln_events";

/**
 * The cluster protocol's statements on a database several nodes share. Every decision is a row;
 * notifications only make nodes act sooner and are never relied on.
 */
export interface ClusterStore {
  registerNode(node: NodeIdentity, concurrency: number): Promise<void>;
  /**
   * One statement: the node's heartbeat and the renewal of its runs' leases (by id and epoch),
   * answering with what was asked of each.
   */
  heartbeat(
    nodeId: string,
    running: number,
    held: readonly HeldRun[],
    leaseMs: number,
  ): Promise<HeartbeatReply>;
  setNodeStatus(nodeId: string, status: NodeStatus): Promise<void>;
  /** Removes the node's row and ends its term as leader, if it held it. */
  deregisterNode(nodeId: string): Promise<void>;
  /**
   * A node known to be dead (no heartbeat for `deadAfterMs`, or its process gone): its row and
   * its term go, and its runs' leases end now, so the rescue takes them at once.
   */
  retireNode(nodeId: string): Promise<void>;
  /**
   * A node silent for a lease: its row and term go, while its runs keep their leases, which end
   * by themselves (a run claimed a moment ago by a node whose heartbeat is late keeps its lease).
   */
  removeNode(nodeId: string): Promise<void>;
  /** How long the database server has run since it last started. */
  serverUptimeMs(): Promise<number>;
  /** Nodes with no heartbeat for `deadAfterMs`, by the database's clock. */
  silentNodes(deadAfterMs: number): Promise<string[]>;
  listNodes(): Promise<NodeRecord[]>;
  /** Takes or renews the leader's term for `termMs`; false while another node holds it. */
  claimLeadership(nodeId: string, termMs: number): Promise<boolean>;
  notify(channel: ClusterChannel, payload: string): Promise<void>;
  /**
   * Listens on every channel, on one connection of its own that is checked every `probeEveryMs`
   * (a notification to itself) and replaced when it has gone deaf; `onListen` runs after each
   * (re)connect, for catching up on what was missed meanwhile.
   */
  listen(
    onMessage: (message: ClusterMessage) => void,
    onListen: () => void,
    options: { probeEveryMs: number; onDeaf?: (silentMs: number) => void },
  ): Promise<() => Promise<void>>;
  /** The latest progress of these tasks (those that reported one). */
  progressOf(taskIds: readonly string[]): Promise<Array<{ id: string; progress: TaskProgress; at: number }>>;
  /** Log lines of these tasks with ids above `afterId`, oldest first (at most 2,000). */
  logsOf(taskIds: readonly string[], afterId: number): Promise<TaskLogRecord[]>;
  /** History rows of these tasks with ids above `afterId`, with each task's row as it is now. */
  eventsOf(
    taskIds: readonly string[],
    afterId: number,
  ): Promise<Array<{ event: TaskEventRecord; task: TaskRecord }>>;
}
