// Several kiln nodes on one PostgreSQL: throughput with 1, 2 and 3 nodes, the time from SIGKILL
// of a node to its tasks running elsewhere, cross-node pause latency with and without NOTIFY,
// and what heartbeats cost. Every figure comes from real `kiln serve` processes (the cluster
// tests' harness) or the store's own heartbeat, on a database created for the run and dropped.
// Usage: bun bench/nodes.ts [--rounds 3] [--trials 5] [--tasks 2000]
//          [--only throughput,failover,pause,heartbeat] [--out file.json]
import { writeFileSync } from "node:fs";
import { failoverFigures } from "./nodes/failover-report.ts";
import { heartbeatFigures } from "./nodes/heartbeat-report.ts";
import { pauseFigures } from "./nodes/pause-report.ts";
import { throughputFigures } from "./nodes/throughput-report.ts";
import { pgUnavailable } from "./peers/postgres.ts";
import { loadAverage, machineInfo } from "./util.ts";

const PARTS = ["throughput", "failover", "pause", "heartbeat"] as const;
type Part = (typeof PARTS)[number];

export interface NodesArgs {
  rounds: number;
  trials: number;
  tasks: number;
}

const USAGE = `usage: bun bench/nodes.ts [--rounds N] [--trials N] [--tasks N] [--only ${PARTS.join(",")}] [--out file.json]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parse(argv: string[]): { args: NodesArgs; only: Part[]; out: string | undefined } {
  const args: NodesArgs = { rounds: 3, trials: 5, tasks: 2_000 };
  let only: Part[] = [...PARTS];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    const count = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) fail(`${flag} must be an integer ≥ 1`);
      return n;
    };
    if (flag === "--rounds") args.rounds = count();
    else if (flag === "--trials") args.trials = count();
    else if (flag === "--tasks") args.tasks = count();
    else if (flag === "--out") out = value();
    else if (flag === "--only") {
      const names = value()
        .split(",")
        .filter((name) => name !== "");
      const unknown = names.filter((name) => !(PARTS as readonly string[]).includes(name));
      if (unknown.length > 0) fail(`unknown part(s): ${unknown.join(", ")}`);
      only = names as Part[];
    } else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument: ${arg}`);
  }
  return { args, only, out };
}

const RUNNERS: Record<Part, (args: NodesArgs) => Promise<unknown>> = {
  throughput: throughputFigures,
  failover: failoverFigures,
  pause: pauseFigures,
  heartbeat: heartbeatFigures,
};

const { args, only, out } = parse(Bun.argv.slice(2));
const unavailable = await pgUnavailable();
if (unavailable) fail(`PostgreSQL is needed: ${unavailable}`);
const machine = machineInfo();
console.log(
  `# Several nodes on one PostgreSQL — ${machine.date}\n${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.platform}, Bun ${machine.bunVersion}; load average at start ${loadAverage()}`,
);
const figures: Record<string, unknown> = { machine, args };
for (const part of only) {
  const started = performance.now();
  figures[part] = await RUNNERS[part](args);
  console.log(
    `\n(${part}: ${((performance.now() - started) / 1_000).toFixed(0)} s; load average now ${loadAverage()})`,
  );
}
if (out) writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
process.exit(0);
