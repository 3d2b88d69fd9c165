import type { NodeIdentity } from "./node-identity.ts";
import type { NodeRecord, NodeStatus } from "./node-record.ts";

/** The nodes as the database lists them, `self` first. */
export function selfFirst(nodes: readonly NodeRecord[], self: NodeIdentity): NodeRecord[] {
  return [...nodes.filter((node) => node.id === self.id), ...nodes.filter((node) => node.id !== self.id)];
}

/** A node alone on its database (SQLite): its record from memory, always its own leader. */
export function loneNode(
  self: NodeIdentity,
  status: NodeStatus,
  concurrency: number,
  running: number,
): NodeRecord {
  return { ...self, lastHeartbeatAt: Date.now(), status, concurrency, running, leader: true };
}
