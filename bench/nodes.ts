// Several kiln nodes on one PostgreSQL: throughput with 1, 2 and 3 nodes, the time from SIGKILL
// of a node to its tasks running elsewhere, cross-node pause latency with and without NOTIFY,
// and what heartbeats cost. Every figure comes from real `kiln serve` processes (the cluster
// tests' harness) or the store's own heartbeat, on a database created for the run and dropped.
// Usage: bun bench/nodes.ts [--rounds 3] [--trials 5] [--tasks 2000]
//          [--only throughput,failover,pause,heartbeat] [--out file.json]
// (`bun run bench --only nodes` runs every part too, in the common report.)
import { writeFileSync } from "node:fs";
import type { NodesArgs } from "./nodes/common.ts";
import { DEFAULT_NODES_ARGS, NODES_PARTS, type NodesPartName } from "./nodes/parts.ts";
import { pgUnavailable } from "./peers/postgres.ts";
import { formatTable, loadAverage, machineInfo } from "./util.ts";

const PARTS = Object.keys(NODES_PARTS) as NodesPartName[];
const USAGE = `usage: bun bench/nodes.ts [--rounds N] [--trials N] [--tasks N] [--only ${PARTS.join(",")}] [--out file.json]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parse(argv: string[]): { args: NodesArgs; only: NodesPartName[]; out: string | undefined } {
  const args: NodesArgs = { ...DEFAULT_NODES_ARGS };
  let only = PARTS;
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
      const unknown = names.filter((name) => !(PARTS as string[]).includes(name));
      if (unknown.length > 0) fail(`unknown part(s): ${unknown.join(", ")}`);
      only = names as NodesPartName[];
    } else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument: ${arg}`);
  }
  return { args, only, out };
}

const { args, only, out } = parse(Bun.argv.slice(2));
const unavailable = await pgUnavailable();
if (unavailable) fail(`PostgreSQL is needed: ${unavailable}`);
const machine = machineInfo();
console.log(
  `# Several nodes on one PostgreSQL — ${machine.date}\n${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.platform}, Bun ${machine.bunVersion}; load average at start ${loadAverage()}`,
);
const figures: Record<string, unknown> = { machine, args };
for (const name of only) {
  const started = performance.now();
  const part = await NODES_PARTS[name](args);
  figures[name] = part.figures;
  for (const table of part.tables) console.log(`\n## ${table.title}\n\n${formatTable(table.rows)}`);
  console.log("");
  for (const note of part.notes) console.log(`- ${note}`);
  console.log(
    `(${name}: ${((performance.now() - started) / 1_000).toFixed(0)} s; load average now ${loadAverage()})`,
  );
}
if (out) writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
process.exit(0);
