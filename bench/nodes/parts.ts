// The parts of bench/nodes.ts by name, and the `nodes` scenario of `bun run bench --only nodes`.
import { pgUnavailable } from "../peers/postgres.ts";
import type { Scenario } from "../util.ts";
import type { NodesArgs, NodesPart } from "./common.ts";
import { failoverFigures } from "./failover-report.ts";
import { heartbeatFigures } from "./heartbeat-report.ts";
import { pauseFigures } from "./pause-report.ts";
import { throughputFigures } from "./throughput-report.ts";

export const NODES_PARTS = {
  throughput: throughputFigures,
  failover: failoverFigures,
  pause: pauseFigures,
  heartbeat: heartbeatFigures,
} as const satisfies Record<string, (args: NodesArgs) => Promise<NodesPart>>;

export type NodesPartName = keyof typeof NODES_PARTS;

export const DEFAULT_NODES_ARGS: NodesArgs = { rounds: 3, trials: 5, tasks: 2_000 };
/** Enough to see every part complete, too little to measure anything. */
const QUICK_NODES_ARGS: NodesArgs = { rounds: 1, trials: 1, tasks: 300 };

/** About 10 minutes with the defaults; run only when asked for (`--only nodes`), since it needs PostgreSQL. */
export const nodesScenario: Scenario = {
  name: "nodes",
  async run({ quick, rounds }) {
    const unavailable = await pgUnavailable();
    if (unavailable) throw new Error(`the nodes scenario needs PostgreSQL: ${unavailable}`);
    const args = quick
      ? QUICK_NODES_ARGS
      : { ...DEFAULT_NODES_ARGS, rounds: rounds ?? DEFAULT_NODES_ARGS.rounds };
    const parts: Partial<Record<NodesPartName, NodesPart>> = {};
    for (const name of Object.keys(NODES_PARTS) as NodesPartName[])
      parts[name] = await NODES_PARTS[name](args);
    const all = Object.values(parts);
    return {
      name: "nodes",
      tables: all.flatMap((part) => part.tables),
      notes: all.flatMap((part) => part.notes),
      figures: Object.fromEntries(Object.entries(parts).map(([name, part]) => [name, part.figures])),
    };
  },
};
