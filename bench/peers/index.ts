// The systems of the "peers" scenario by id; each is imported only by the child process running it.
import type { Peer } from "./types.ts";

export const PEERS = {
  kiln: async () => (await import("./kiln.ts")).kilnPeer("submit"),
  "kiln-create": async () => (await import("./kiln.ts")).kilnPeer("create"),
  plainjob: async () => (await import("./plainjob.ts")).plainjobPeer(),
  bunqueue: async () => (await import("./bunqueue.ts")).bunqueuePeer({ durable: false }),
  "bunqueue-durable": async () => (await import("./bunqueue.ts")).bunqueuePeer({ durable: true }),
  bullmq: async () => (await import("./bullmq.ts")).bullmqPeer(),
  "pg-boss": async () => (await import("./pgboss.ts")).pgbossPeer({ batchSize: 50 }),
  "pg-boss-unbatched": async () => (await import("./pgboss.ts")).pgbossPeer({ batchSize: 1 }),
} satisfies Record<string, () => Promise<Peer>>;

export type PeerId = keyof typeof PEERS;

export function isPeerId(id: string): id is PeerId {
  return Object.hasOwn(PEERS, id);
}
