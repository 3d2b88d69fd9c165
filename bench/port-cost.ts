// The SQLite cost of the asynchronous store port: the same SQLite workloads on this checkout's
// engine and on an older checkout's (the last commit before the port), interleaved run by run
// with the order alternating, each run a fresh child process on a fresh file.
// Usage: bun bench/port-cost.ts --old <kiln checkout> [--runs 5] [--n 20000] [--out file.json]
// Workloads: the peers scenario's kiln single and bulk runs (each checkout's own bench/peers/
// child.ts, identical in both) and 20,000 no-op submit() calls at concurrency 4 and 2, each on the
// engine's own schema and on this checkout's; for those, also the main thread's CPU time per task
// (Linux), which the machine's load sways far less.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrateWith, runBunChild } from "./child-run.ts";
import { formatTable, median, type Row, round, tempDir } from "./util.ts";

interface Args {
  old: string;
  runs: number;
  n: number;
  out: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { old: "", runs: 5, n: 20_000, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? "";
    if (argv[i] === "--old") args.old = value();
    else if (argv[i] === "--runs") args.runs = Number(value());
    else if (argv[i] === "--n") args.n = Number(value());
    else if (argv[i] === "--out") args.out = value();
  }
  if (args.old === "" || !Number.isInteger(args.runs) || args.runs < 1) {
    console.error(
      "usage: bun bench/port-cost.ts --old <kiln checkout> [--runs 5] [--n 20000] [--out file.json]",
    );
    process.exit(2);
  }
  return args;
}

const NEW_ROOT = join(import.meta.dir, "..");

// c=2 is the peers runs' concurrency (the default on 2 cores): one task's end and the next start
// a commit. "this schema": both engines on a file this checkout migrated, so the engines differ
// and the schemas do not.
const WORKLOADS = [
  "peers kiln single",
  "peers kiln bulk",
  "submit() c=4",
  "submit() c=4, this schema",
  "submit() c=2",
  "submit() c=2, this schema",
] as const;
type Workload = (typeof WORKLOADS)[number];
type Engine = "old" | "new";

interface Sample {
  run: number;
  engine: Engine;
  workload: Workload;
  tasksPerSec: number;
  loadAverage: number | null;
  /** submit() c=4 only: the main thread's CPU time per task (Linux). */
  mainThreadCpuUsPerTask: number | null;
  /** submit() c=4 only: CPU time per task by kind of thread (main, workers, jit, gc+alloc, other). */
  threadCpuUsPerTask: Record<string, number | null> | null;
}

async function once(
  root: string,
  workload: Workload,
  n: number,
  template: string,
): Promise<Omit<Sample, "run" | "engine">> {
  const command = workload.startsWith("submit()")
    ? [
        join(NEW_ROOT, "bench/port-cost-child.ts"),
        root,
        String(n),
        workload.startsWith("submit() c=2") ? "2" : "4",
      ]
    : [
        join(root, "bench/peers/child.ts"),
        JSON.stringify({
          peer: "kiln",
          mode: workload.endsWith("bulk") ? "bulk" : "single",
          n,
          timeoutMs: 120_000,
        }),
      ];
  const env = workload.endsWith("this schema") ? { KILN_BENCH_TEMPLATE: template } : undefined;
  const { code, lastLine, err } = await runBunChild(command, 240_000, env);
  if (code !== 0 || !lastLine?.startsWith("{"))
    throw new Error(`${workload} on ${root}: exit ${code}: ${err}`);
  const parsed = JSON.parse(lastLine) as
    | {
        tasksPerSec: number;
        loadAverage: number | null;
        timedOut: boolean;
        mainThreadCpuUsPerTask?: number | null;
        threadCpuUsPerTask?: Record<string, number | null>;
      }
    | { kind: string; result?: { jobsPerSec: number; loadAverage: number | null; timedOut: boolean } };
  if ("tasksPerSec" in parsed) {
    if (parsed.timedOut) throw new Error(`${workload} on ${root} timed out`);
    return {
      workload,
      tasksPerSec: parsed.tasksPerSec,
      loadAverage: parsed.loadAverage,
      mainThreadCpuUsPerTask: parsed.mainThreadCpuUsPerTask ?? null,
      threadCpuUsPerTask: parsed.threadCpuUsPerTask ?? null,
    };
  }
  if (parsed.kind !== "result" || !parsed.result || parsed.result.timedOut)
    throw new Error(`${workload} on ${root}: ${lastLine}`);
  return {
    workload,
    tasksPerSec: parsed.result.jobsPerSec,
    loadAverage: parsed.result.loadAverage,
    mainThreadCpuUsPerTask: null,
    threadCpuUsPerTask: null,
  };
}

const args = parseArgs(Bun.argv.slice(2));
const roots: Record<Engine, string> = { old: args.old, new: NEW_ROOT };
const samples: Sample[] = [];
const tmp = tempDir("port-cost-schema");
const template = join(tmp.dir, "this-schema.db");
await migrateWith(NEW_ROOT, template);
for (let run = 0; run < args.runs; run++) {
  // Alternate which engine goes first, so neither always meets the machine in the same state.
  const order: Engine[] = run % 2 === 0 ? ["old", "new"] : ["new", "old"];
  for (const workload of WORKLOADS) {
    for (const engine of order) {
      const sample = { run, engine, ...(await once(roots[engine], workload, args.n, template)) };
      samples.push(sample);
      const cpu =
        sample.mainThreadCpuUsPerTask === null
          ? ""
          : `, main thread ${sample.mainThreadCpuUsPerTask} µs CPU/task`;
      console.error(
        `run ${run + 1}/${args.runs} ${engine} ${workload}: ${sample.tasksPerSec} tasks/s${cpu} (load ${sample.loadAverage})`,
      );
    }
  }
}

const rows: Row[] = WORKLOADS.map((workload) => {
  const of = (engine: Engine) => samples.filter((s) => s.workload === workload && s.engine === engine);
  const rates = (engine: Engine) => of(engine).map((s) => s.tasksPerSec);
  const ratios = of("new").flatMap((s) => {
    const old = of("old").find((o) => o.run === s.run);
    return old ? [s.tasksPerSec / old.tasksPerSec] : [];
  });
  const loads = samples.filter((s) => s.workload === workload).flatMap((s) => s.loadAverage ?? []);
  // The main thread's CPU per task, new ÷ old per run: what the engine spent, whatever the load.
  const cpuRatios = of("new").flatMap((s) => {
    const old = of("old").find((o) => o.run === s.run);
    return s.mainThreadCpuUsPerTask && old?.mainThreadCpuUsPerTask
      ? [s.mainThreadCpuUsPerTask / old.mainThreadCpuUsPerTask]
      : [];
  });
  const cpu = (engine: Engine) => of(engine).flatMap((s) => s.mainThreadCpuUsPerTask ?? []);
  return {
    workload,
    runs: ratios.length,
    "old tasks/s median": median(rates("old")),
    "old min–max": `${Math.min(...rates("old"))}–${Math.max(...rates("old"))}`,
    "new tasks/s median": median(rates("new")),
    "new min–max": `${Math.min(...rates("new"))}–${Math.max(...rates("new"))}`,
    "new ÷ old per run, median": round(median(ratios), 3),
    "per-run ratios": ratios.map((r) => round(r, 2)).join(", "),
    "main-thread CPU µs/task old / new median":
      cpuRatios.length === 0 ? "–" : `${median(cpu("old"))} / ${median(cpu("new"))}`,
    "CPU new ÷ old per run": cpuRatios.map((r) => round(r, 2)).join(", ") || "–",
    "load avg before": `${Math.min(...loads)}–${Math.max(...loads)}`,
  };
});
console.log(formatTable(rows));

// Where a task's CPU goes, by kind of thread: on a machine with few cores every thread's time
// counts against the same CPUs, not only the main thread's.
const kinds = [...new Set(samples.flatMap((s) => Object.keys(s.threadCpuUsPerTask ?? {})))].sort();
if (kinds.length > 0) {
  const threadRows: Row[] = (["old", "new"] as const).map((engine) => {
    const of = samples.filter((s) => s.engine === engine && s.workload === "submit() c=4");
    const row: Row = { "submit() c=4": engine, runs: of.length };
    let total = 0;
    for (const kind of kinds) {
      const value = median(of.flatMap((s) => s.threadCpuUsPerTask?.[kind] ?? []));
      row[`${kind} µs/task`] = value;
      total += value;
    }
    row["all threads µs/task"] = round(total, 1);
    return row;
  });
  console.log(`\nCPU per task by thread, medians over runs\n${formatTable(threadRows)}`);
}
tmp.cleanup();
if (args.out)
  writeFileSync(args.out, `${JSON.stringify({ old: args.old, n: args.n, samples, rows }, null, 2)}\n`);
