// How fast the contract alone runs (bench/lean/peer.ts: kiln's schema, statements and commits,
// with no engine code), beside kiln and the fastest durable peer, in the same interleaved rounds:
// the most any design that keeps kiln's contract reaches on this machine, at the default
// concurrency (one worker a core) and at kiln's best (8); and at the default with its commits made
// on a writer thread of their own instead of the main thread.
// Usage: bun bench/lean.ts [--n 20000] [--rounds 5] [--mode single|bulk]
import { join } from "node:path";
import { runBunChild } from "./child-run.ts";
import type { LeanWriter } from "./lean/engine.ts";
import { roundOrder } from "./peers/rounds.ts";
import type { ChildOutput, EnqueueMode, PeerResult } from "./peers/types.ts";
import { formatTable, loadAverage, median, type Row, round } from "./util.ts";

const LEAN_CHILD = join(import.meta.dir, "lean", "child.ts");
const PEER_CHILD = join(import.meta.dir, "peers", "child.ts");
const TIMEOUT_MS = 120_000;

interface System {
  id: string;
  /** The child's arguments for a run of `n` jobs. */
  args(mode: EnqueueMode, n: number): string[];
}

const lean = (concurrency: number, writer: LeanWriter = "main"): System => ({
  id: `lean-${concurrency}${writer === "thread" ? "-writer-thread" : ""}`,
  args: (mode, n) => [LEAN_CHILD, JSON.stringify({ concurrency, writer, mode, n, timeoutMs: TIMEOUT_MS })],
});
const peer = (id: string): System => ({
  id,
  args: (mode, n) => [PEER_CHILD, JSON.stringify({ peer: id, mode, n, timeoutMs: TIMEOUT_MS })],
});
const SYSTEMS_OF_BOTH = [
  lean(2),
  lean(8),
  lean(2, "thread"),
  peer("kiln"),
  peer("kiln-best"),
  peer("plainjob"),
  peer("plainjob-processes"),
];
/** Ratios printed per round, then as their median: [numerator, denominator]. */
const RATIOS_OF_BOTH: Array<[string, string]> = [
  ["lean-2", "plainjob"],
  ["lean-2", "plainjob-processes"],
  ["lean-8", "plainjob"],
  ["lean-2-writer-thread", "lean-2"],
  ["kiln", "lean-2"],
  ["kiln-best", "lean-8"],
  ["kiln", "plainjob"],
];
/** Bulk enqueue: the fastest durable peer with a bulk call is graphile-worker's `addJobs`. */
const systemsOf = (mode: EnqueueMode) =>
  mode === "bulk" ? [...SYSTEMS_OF_BOTH, peer("graphile-worker")] : SYSTEMS_OF_BOTH;
const ratiosOf = (mode: EnqueueMode): Array<[string, string]> =>
  mode === "bulk"
    ? [...RATIOS_OF_BOTH, ["lean-2", "graphile-worker"], ["lean-8", "graphile-worker"]]
    : RATIOS_OF_BOTH;

function parseArgs(argv: string[]): { n: number; rounds: number; mode: EnqueueMode } {
  const args = { n: 20_000, rounds: 5, mode: "single" as EnqueueMode };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--n") args.n = Number(argv[i + 1]);
    else if (argv[i] === "--rounds") args.rounds = Number(argv[i + 1]);
    else if (argv[i] === "--mode") args.mode = argv[i + 1] === "bulk" ? "bulk" : "single";
  }
  if (!Number.isInteger(args.n) || args.n < 100 || !Number.isInteger(args.rounds) || args.rounds < 1) {
    console.error("usage: bun bench/lean.ts [--n 20000] [--rounds 5] [--mode single|bulk]");
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const SYSTEMS = systemsOf(args.mode);
const RATIOS = ratiosOf(args.mode);
/** Jobs a second by system, one entry a round (null where the run failed). */
const perRound = new Map<string, Array<number | null>>(SYSTEMS.map((s) => [s.id, []]));
const cpu = new Map<string, number[]>(SYSTEMS.map((s) => [s.id, []]));
/** The contract alone's main-thread CPU µs a task, one entry a round. */
const mainThread = new Map<string, number[]>(SYSTEMS.map((s) => [s.id, []]));
for (let r = 0; r < args.rounds; r++) {
  for (const system of roundOrder(SYSTEMS, r, args.rounds)) {
    const load = loadAverage();
    const run = await runBunChild(system.args(args.mode, args.n), TIMEOUT_MS + 60_000);
    const output = run.lastLine?.startsWith("{")
      ? (JSON.parse(run.lastLine) as ChildOutput & { mainThreadCpuUsPerTask?: number | null })
      : undefined;
    if (typeof output?.mainThreadCpuUsPerTask === "number")
      mainThread.get(system.id)?.push(output.mainThreadCpuUsPerTask);
    const result: PeerResult | undefined = output?.kind === "result" ? output.result : undefined;
    perRound.get(system.id)?.push(result && !result.timedOut ? result.jobsPerSec : null);
    if (result) cpu.get(system.id)?.push(result.processCpuPercent);
    console.error(
      `round ${r + 1}: ${system.id} ${result ? `${result.jobsPerSec} jobs/s, ${result.processCpuPercent} % of a core` : `failed: ${output?.kind === "failed" ? output.error : run.err.slice(-400)}`} (load ${load})`,
    );
  }
}

const present = (values: Array<number | null>) => values.filter((v): v is number => v !== null);
console.log(
  `\nThe contract alone beside kiln and plainjob: ${args.mode} enqueue, ${args.n} no-op jobs, ${args.rounds} rounds, Bun ${Bun.version}\n`,
);
console.log(
  formatTable(
    SYSTEMS.map((s): Row => {
      const values = present(perRound.get(s.id) ?? []);
      return {
        system: s.id,
        "jobs/s (median)": Math.round(median(values)),
        range: `${Math.min(...values)}–${Math.max(...values)}`,
        runs: values.length,
        "process CPU, % of a core": round(median(cpu.get(s.id) ?? []), 0),
        "main thread µs a task":
          (mainThread.get(s.id) ?? []).length > 0 ? round(median(mainThread.get(s.id) ?? []), 1) : "-",
      };
    }),
  ),
);
console.log("");
console.log(
  formatTable(
    RATIOS.map(([a, b]): Row => {
      const as = perRound.get(a) ?? [];
      const bs = perRound.get(b) ?? [];
      const ratios = as.flatMap((value, i) => {
        const other = bs[i];
        return value === null || other === null || other === undefined ? [] : [value / other];
      });
      return {
        ratio: `${a} ÷ ${b}`,
        median: round(median(ratios), 2),
        "per round": ratios.map((x) => round(x, 2)).join(", "),
      };
    }),
  ),
);
process.exit(0);
