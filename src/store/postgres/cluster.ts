import type { NodeIdentity } from "../../cluster/node-identity.ts";
import type { NodeRecord, NodeStatus } from "../../cluster/node-record.ts";
import type { RequestedAction, TaskStatus } from "../../task/index.ts";
import type {
  ClusterChannel,
  ClusterMessage,
  ClusterStore,
  HeartbeatReply,
  HeldRun,
} from "../cluster-store.ts";
import type { TaskEventRecord, TaskLogRecord, TaskProgress, TaskRecord } from "../records.ts";
import type { SqlValue, TaskRowCodec } from "../task-rows.ts";
import { type PostgresClient, type Row, run } from "./client.ts";
import { CLUSTER_SQL } from "./cluster-sql.ts";
import { SupervisedListener } from "./listener.ts";

const CHANNELS: readonly ClusterChannel[] = ["kiln_ready", "kiln_control", "kiln_events"];

/** The cluster protocol on PostgreSQL: nodes, leases, the leader, and LISTEN/NOTIFY. */
export class PostgresCluster implements ClusterStore {
  readonly #listeners = new Set<SupervisedListener>();

  constructor(
    private readonly client: PostgresClient,
    private readonly codec: TaskRowCodec,
    /** A client of one connection, for a LISTEN session of its own. */
    private readonly openListenClient: () => PostgresClient,
  ) {}

  /** Ends the listeners still open (those of a node that was not stopped). */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((listener) => listener.close()));
    this.#listeners.clear();
  }

  #run<R = Row>(text: string, params: readonly SqlValue[]): Promise<R[]> {
    return run<R>(this.client, text, params);
  }

  async registerNode(node: NodeIdentity, concurrency: number): Promise<void> {
    await this.#run(CLUSTER_SQL.registerNode, [
      node.id,
      node.name,
      node.host,
      node.pid,
      node.startedAt,
      concurrency,
    ]);
  }

  async heartbeat(
    nodeId: string,
    running: number,
    held: readonly HeldRun[],
    leaseMs: number,
  ): Promise<HeartbeatReply> {
    const pairs = JSON.stringify(held.map((run) => [run.id, run.epoch]));
    const [row] = await this.#run<{ registered: number; nodes: number; renewed: string }>(
      CLUSTER_SQL.heartbeat,
      [nodeId, running, leaseMs, pairs],
    );
    const renewed = new Map<string, RequestedAction | null>();
    for (const [id, action] of JSON.parse(row?.renewed ?? "[]") as [string, RequestedAction | null][])
      renewed.set(id, action);
    return { registered: Number(row?.registered ?? 0) > 0, renewed, nodes: Number(row?.nodes ?? 1) };
  }

  async setNodeStatus(nodeId: string, status: NodeStatus): Promise<void> {
    await this.#run(CLUSTER_SQL.setNodeStatus, [nodeId, status]);
  }

  async deregisterNode(nodeId: string): Promise<void> {
    await this.#run(CLUSTER_SQL.deregisterNode, [nodeId]);
  }

  async retireNode(nodeId: string): Promise<void> {
    await this.#run(CLUSTER_SQL.retireNode, [nodeId]);
  }

  async removeNode(nodeId: string): Promise<void> {
    await this.#run(CLUSTER_SQL.removeNode, [nodeId]);
  }

  async serverUptimeMs(): Promise<number> {
    const [row] = await this.#run<{ ms: number }>(CLUSTER_SQL.serverUptime, []);
    return Number(row?.ms ?? 0);
  }

  async silentNodes(deadAfterMs: number): Promise<string[]> {
    const rows = await this.#run<{ id: string }>(CLUSTER_SQL.silentNodes, [deadAfterMs]);
    return rows.map((row) => row.id);
  }

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.#run<NodeRecord>(CLUSTER_SQL.listNodes, []);
    return rows.map((row) => ({ ...row, pid: Number(row.pid), leader: Boolean(row.leader) }));
  }

  async claimLeadership(nodeId: string, termMs: number): Promise<boolean> {
    const rows = await this.#run(CLUSTER_SQL.claimLeadership, [nodeId, termMs]);
    return rows.length > 0;
  }

  async notify(channel: ClusterChannel, payload: string): Promise<void> {
    await this.#run(CLUSTER_SQL.notify, [channel, payload]);
  }

  async listen(
    onMessage: (message: ClusterMessage) => void,
    onListen: () => void,
    options: { probeEveryMs: number; onDeaf?: (silentMs: number) => void },
  ): Promise<() => Promise<void>> {
    const listener = new SupervisedListener({
      openClient: this.openListenClient,
      channels: CHANNELS,
      onMessage: (channel, payload) => onMessage({ channel: channel as ClusterChannel, payload }),
      onListen,
      notify: async (channel, payload) => {
        await this.#run(CLUSTER_SQL.notify, [channel, payload]);
      },
      probeEveryMs: options.probeEveryMs,
      onDeaf: options.onDeaf,
    });
    await listener.start();
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
      await listener.close();
    };
  }

  async progressOf(
    taskIds: readonly string[],
  ): Promise<Array<{ id: string; progress: TaskProgress; at: number }>> {
    if (taskIds.length === 0) return [];
    const rows = await this.#run<{ id: string; progress: string; updatedAt: number }>(
      CLUSTER_SQL.progressOf,
      [JSON.stringify(taskIds)],
    );
    const found: Array<{ id: string; progress: TaskProgress; at: number }> = [];
    for (const row of rows) {
      try {
        found.push({
          id: row.id,
          progress: JSON.parse(row.progress) as TaskProgress,
          at: Number(row.updatedAt),
        });
      } catch {
        // A progress altered outside kiln: the task page shows what it can, the stream skips it.
      }
    }
    return found;
  }

  async logsOf(taskIds: readonly string[], afterId: number): Promise<TaskLogRecord[]> {
    if (taskIds.length === 0) return [];
    const rows = await this.#run<TaskLogRecord>(CLUSTER_SQL.logsOf, [JSON.stringify(taskIds), afterId]);
    return rows.map((row) => ({ ...row, id: Number(row.id), at: Number(row.at) }));
  }

  async eventsOf(
    taskIds: readonly string[],
    afterId: number,
  ): Promise<Array<{ event: TaskEventRecord; task: TaskRecord }>> {
    if (taskIds.length === 0) return [];
    const rows = await this.#run(CLUSTER_SQL.eventsOf, [JSON.stringify(taskIds), afterId]);
    return rows.map((row) => ({
      event: {
        id: Number(row.e_id),
        taskId: String(row.e_task_id),
        at: Number(row.e_at),
        fromStatus: row.e_from as TaskStatus | null,
        toStatus: row.e_to as TaskStatus | null,
        action: row.e_action as TaskEventRecord["action"],
        reason: row.e_reason as string | null,
        actor: row.e_actor as string | null,
        source: row.e_source as string | null,
      },
      task: this.codec.fromRow(row),
    }));
  }
}
