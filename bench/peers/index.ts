// The systems of the "peers" scenario by id; each is imported only by the child process running it.
import type { Peer } from "./types.ts";

const kiln = async (durability: "normal" | "full", best: boolean) => {
  const { kilnPeer, KILN_BEST_CONCURRENCY } = await import("./kiln.ts");
  return kilnPeer({ durability, concurrency: best ? KILN_BEST_CONCURRENCY : undefined });
};
const kilnPg = async (concurrency: number | undefined, poolSize: number | undefined) =>
  (await import("./kiln-pg.ts")).kilnPgPeer({ concurrency, poolSize });
const plainjob = async (synchronous: "NORMAL" | "FULL", inProcesses: boolean) => {
  const { plainjobPeer, plainjobProcesses } = await import("./plainjob.ts");
  return plainjobPeer({ synchronous, processes: inProcesses ? plainjobProcesses() : 0 });
};

export const PEERS = {
  kiln: () => kiln("normal", false),
  "kiln-best": () => kiln("normal", true),
  "kiln-full": () => kiln("full", false),
  "kiln-full-best": () => kiln("full", true),
  "kiln-pg": () => kilnPg(undefined, undefined),
  "kiln-pg-best": () => kilnPg(8, 25),
  plainjob: () => plainjob("NORMAL", false),
  "plainjob-processes": () => plainjob("NORMAL", true),
  "plainjob-full": () => plainjob("FULL", false),
  "plainjob-full-processes": () => plainjob("FULL", true),
  bunqueue: async () => (await import("./bunqueue.ts")).bunqueuePeer({ durable: false }),
  "bunqueue-durable": async () => (await import("./bunqueue.ts")).bunqueuePeer({ durable: true }),
  bullmq: async () => (await import("./bullmq.ts")).bullmqPeer(),
  "pg-boss": async () => (await import("./pgboss.ts")).pgbossPeer(),
  "graphile-worker": async () => (await import("./graphile.ts")).graphilePeer(),
} satisfies Record<string, () => Promise<Peer>>;

export type PeerId = keyof typeof PEERS;

export const PEER_IDS = Object.keys(PEERS) as PeerId[];

/** kiln's own configurations: compared with the others, never with each other. */
export const KILN_IDS: readonly PeerId[] = [
  "kiln",
  "kiln-best",
  "kiln-full",
  "kiln-full-best",
  "kiln-pg",
  "kiln-pg-best",
];

export function isPeerId(id: string): id is PeerId {
  return Object.hasOwn(PEERS, id);
}
