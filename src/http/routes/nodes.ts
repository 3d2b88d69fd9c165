import type { Static } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { NodeRecord } from "../../cluster/node-record.ts";
import type { TaskManager } from "../../engine/index.ts";
import { NODE_LIST_EXAMPLE } from "../examples.ts";
import { storedTime } from "../presenters.ts";

const NullableIso = t.Union([t.String({ format: "date-time" }), t.Null()]);

export const NodeSchema = t.Object(
  {
    id: t.String({
      description: "`<name>/<8 hex digits>`, fresh on every start: a restarted process is a new node",
    }),
    name: t.String({ description: "The name given with --node-name, by default `<host>-<pid>`" }),
    host: t.String(),
    pid: t.Integer(),
    startedAt: NullableIso,
    lastHeartbeatAt: NullableIso,
    heartbeatAgeMs: t.Integer({
      minimum: 0,
      description: "How long ago the node's last heartbeat was, as this node sees it",
    }),
    status: t.Union([t.Literal("alive"), t.Literal("stopping")], {
      description: '"stopping": the node has begun its graceful shutdown and hands its tasks back',
    }),
    concurrency: t.Integer({ description: "Tasks the node runs at once" }),
    running: t.Integer({ description: "Runs holding a slot on the node, as of its last heartbeat" }),
    leader: t.Boolean({
      description: "Whether the node holds the leader's term and runs the cluster's upkeep",
    }),
  },
  { description: "A kiln process serving the database" },
);

export const NodeList = t.Object(
  { items: t.Array(NodeSchema, { description: "This node first" }) },
  { examples: [NODE_LIST_EXAMPLE] },
);

export type NodeJson = Static<typeof NodeSchema>;
export type NodeListJson = Static<typeof NodeList>;

/** A node record in the API's words: ISO times, and the heartbeat's age so clients need no clock. */
export function presentNode(node: NodeRecord, now: number): NodeJson {
  return {
    id: node.id,
    name: node.name,
    host: node.host,
    pid: node.pid,
    startedAt: storedTime(node.startedAt),
    lastHeartbeatAt: storedTime(node.lastHeartbeatAt),
    heartbeatAgeMs: Math.max(0, Math.round(now - node.lastHeartbeatAt)),
    status: node.status,
    concurrency: node.concurrency,
    running: node.running,
    leader: node.leader,
  };
}

/** GET /nodes: the kiln processes serving the database, with their load and heartbeats. */
export function nodeRoutes(manager: TaskManager) {
  return new Elysia({ tags: ["nodes"] }).decorate("kiln", manager).get(
    "/nodes",
    async ({ kiln }): Promise<NodeListJson> => {
      const nodes = await kiln.nodes();
      const now = Date.now();
      return { items: nodes.map((node) => presentNode(node, now)) };
    },
    {
      response: { 200: NodeList },
      detail: {
        summary: "List the nodes serving the database, this one first",
        description:
          "On SQLite that is this process alone, always its own leader. On PostgreSQL every registered node: " +
          "a node whose heartbeat is older than the lease is dead, and the leader moves its RUNNING tasks " +
          "to other nodes. A task's `node` field is the id of the node running it.",
      },
    },
  );
}
