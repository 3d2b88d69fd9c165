// One peer's run in a process of its own (no shared JIT state, heap, or singletons between
// systems). Usage: bun bench/peers/child.ts '{"peer":"kiln","mode":"single","n":20000,"timeoutMs":90000}'
// Prints one JSON line (ChildOutput) and exits.
import { type DriveOptions, drive } from "./drive.ts";
import { isPeerId, PEERS } from "./index.ts";
import type { ChildOutput, EnqueueMode, Peer } from "./types.ts";

export interface ChildRequest {
  peer: string;
  mode: EnqueueMode;
  n: number;
  timeoutMs: number;
}

async function main(request: ChildRequest): Promise<ChildOutput> {
  if (!isPeerId(request.peer)) return { kind: "failed", label: request.peer, error: "unknown peer" };
  return runPeer(await PEERS[request.peer](), request);
}

/** One run of `peer` through the driver: its result, why it was skipped, or how it failed. */
export async function runPeer(peer: Peer, request: DriveOptions): Promise<ChildOutput> {
  try {
    const reason = await peer.unavailable();
    if (reason !== null) return { kind: "skipped", label: peer.label, reason };
    const result = await drive(peer, request);
    return { kind: "result", result };
  } catch (error) {
    return {
      kind: "failed",
      label: peer.label,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}

if (import.meta.main) {
  const raw = process.argv[2];
  if (!raw) {
    console.error("usage: bun bench/peers/child.ts '<request json>' (run it through bench/run.ts)");
    process.exit(2);
  }
  const output = await main(JSON.parse(raw) as ChildRequest);
  console.log(JSON.stringify(output));
  // Client libraries may leave timers or sockets behind; the run is over either way.
  process.exit(0);
}
