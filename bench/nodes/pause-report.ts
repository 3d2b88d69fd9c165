// The pause part of bench/nodes.ts: blocks of the three ways a pause reaches the other node.
import { type Row, summarize } from "../util.ts";
import { type NodesArgs, type NodesPart, spread } from "./common.ts";
import { PAUSE_LEASE, PAUSE_STEP_MS, type PauseMode, pauseBlocks } from "./pause.ts";

const TRIALS: Record<PauseMode, number> = { notify: 60, "listen ended": 25, "listen frozen": 30 };
const BLOCKS = 2;

const WHAT: Record<PauseMode, string> = {
  notify: "NOTIFY (kiln_control)",
  "listen ended": "B's LISTEN backend ended every 10 ms (as test 4)",
  "listen frozen": "B's LISTEN backend frozen (heartbeat only)",
};

export async function pauseFigures(_args: NodesArgs): Promise<NodesPart> {
  const blocks = await pauseBlocks(BLOCKS, TRIALS, (block) =>
    console.error(
      `pause block ${block.block} ${block.mode}: median ${summarize(block.latencies).median} ms (load ${block.load})`,
    ),
  );
  const rows: Row[] = (Object.keys(TRIALS) as PauseMode[]).map((mode) => {
    const of = blocks.filter((block) => block.mode === mode);
    const stats = summarize(of.flatMap((block) => block.latencies));
    return {
      "how the pause reaches B": WHAT[mode],
      trials: stats.n,
      "p50 ms": stats.median,
      "p90 ms": stats.p90,
      "p99 ms": stats.p99,
      "max ms": stats.max,
      "min ms": stats.min,
      "LISTEN backends cut": of.map((block) => block.listenCut).join(" + "),
      "load avg": spread(
        of.map((block) => block.load ?? Number.NaN),
        2,
      ),
    };
  });
  return {
    tables: [
      {
        title: `Cross-node pause: 2 nodes, lease ${PAUSE_LEASE.leaseMs} ms, heartbeat ${PAUSE_LEASE.heartbeatMs} ms; a \`steps\` task checkpointing every ${PAUSE_STEP_MS} ms on node B paused through node A; request → PAUSED committed (${BLOCKS} blocks of each, interleaved)`,
        rows,
      },
    ],
    notes: [
      "listen frozen: SIGSTOP of B's LISTEN backend (its connection stays open, B hears nothing and does not reconnect), the pause sent at a random point of B's heartbeat cycle.",
    ],
    figures: blocks,
  };
}
