// Where the asynchronous store port's extra time goes on SQLite: a CPU profile of the main thread
// (bun --cpu-prof) of N no-op submit() calls at concurrency 4 on this checkout's engine and on an
// older checkout's, by what the code does and by function (self time), old beside new.
// Usage: bun bench/port-cost-profile.ts --old <kiln checkout> [--n 20000] [--repeat 2]
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { type CpuProfile, category } from "./profile.ts";
import { formatTable, median, type Row, round, tempDir } from "./util.ts";

const NEW_ROOT = join(import.meta.dir, "..");
const CHILD = join(import.meta.dir, "port-cost-child.ts");

interface Profiled {
  tasksPerSec: number;
  totalMs: number;
  byCategory: Map<string, number>;
  byFunction: Map<string, number>;
  /** Self time by kiln source file. */
  byFile: Map<string, number>;
}

async function profile(root: string, n: number): Promise<Profiled> {
  const tmp = tempDir("port-cost-profile");
  try {
    const child = Bun.spawn(
      [process.execPath, "--cpu-prof", `--cpu-prof-dir=${tmp.dir}`, CHILD, root, String(n), "4"],
      { stdout: "pipe", stderr: "inherit" },
    );
    const out = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error(`the profiled run failed: ${out}`);
    const run = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { tasksPerSec: number };
    const file = readdirSync(tmp.dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("bun wrote no .cpuprofile");
    const data = (await Bun.file(join(tmp.dir, file)).json()) as CpuProfile;
    const nodes = new Map(data.nodes.map((node) => [node.id, node]));
    const byCategory = new Map<string, number>();
    const byFunction = new Map<string, number>();
    const byFile = new Map<string, number>();
    let total = 0;
    data.samples.forEach((id, i) => {
      const frame = nodes.get(id)?.callFrame as
        | { functionName: string; url: string; lineNumber?: number }
        | undefined;
      const delta = data.timeDeltas[i] ?? 0;
      total += delta;
      if (!frame) return;
      const what = category(frame.functionName, frame.url);
      byCategory.set(what, (byCategory.get(what) ?? 0) + delta);
      // By name and file, not line: the same function sits on other lines in the two checkouts.
      const where = frame.url === "" ? "(native)" : basename(frame.url);
      const key = `${frame.functionName || "(anonymous)"} ${where}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + delta);
      if (frame.url.includes("/src/")) {
        const file = frame.url.slice(frame.url.indexOf("/src/") + 1);
        byFile.set(file, (byFile.get(file) ?? 0) + delta);
      }
    });
    return { tasksPerSec: run.tasksPerSec, totalMs: total / 1000, byCategory, byFunction, byFile };
  } finally {
    tmp.cleanup();
  }
}

/** The median over repeats of each key's ms. */
function medianMs(runs: Profiled[], pick: (p: Profiled) => Map<string, number>): Map<string, number> {
  const keys = new Set(runs.flatMap((r) => [...pick(r).keys()]));
  return new Map([...keys].map((k) => [k, median(runs.map((r) => (pick(r).get(k) ?? 0) / 1000))]));
}

const arg = (name: string) => {
  const index = Bun.argv.indexOf(name);
  return index >= 0 ? Bun.argv[index + 1] : undefined;
};
const old = arg("--old");
if (!old) {
  console.error("usage: bun bench/port-cost-profile.ts --old <kiln checkout> [--n 20000] [--repeat 2]");
  process.exit(2);
}
const n = Number(arg("--n") ?? 20_000);
const repeat = Number(arg("--repeat") ?? 2);
const runs: Record<"old" | "new", Profiled[]> = { old: [], new: [] };
for (let i = 0; i < repeat; i++) {
  for (const engine of i % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const)) {
    const p = await profile(engine === "old" ? old : NEW_ROOT, n);
    runs[engine].push(p);
    console.error(
      `${engine}: ${p.tasksPerSec} tasks/s under the profiler, main thread ${round(p.totalMs, 0)} ms`,
    );
  }
}
const table = (pick: (p: Profiled) => Map<string, number>, label: string, top: number): Row[] => {
  const o = medianMs(runs.old, pick);
  const w = medianMs(runs.new, pick);
  return [...new Set([...o.keys(), ...w.keys()])]
    .map((k) => ({ k, old: o.get(k) ?? 0, new: w.get(k) ?? 0 }))
    .sort((a, b) => Math.abs(b.new - b.old) - Math.abs(a.new - a.old))
    .slice(0, top)
    .map((r) => ({
      [label]: r.k,
      "old ms": round(r.old, 0),
      "new ms": round(r.new, 0),
      "new − old ms": round(r.new - r.old, 0),
    }));
};
console.log(
  `\n${n} no-op submit() at concurrency 4, main thread, median of ${repeat}: old ${median(runs.old.map((r) => r.tasksPerSec))} tasks/s, new ${median(runs.new.map((r) => r.tasksPerSec))} tasks/s under the profiler\n`,
);
console.log(formatTable(table((p) => p.byCategory, "by what the code does", 20)));
console.log("");
console.log(formatTable(table((p) => p.byFile, "kiln source file (self time), largest differences", 15)));
console.log("");
console.log(formatTable(table((p) => p.byFunction, "function (self time), largest differences", 25)));
process.exit(0);
