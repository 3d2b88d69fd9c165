// Where kiln's time goes on the peers workload: a CPU profile of the main thread of the kiln run
// (bun --cpu-prof on bench/peers/child.ts), grouped by what the code does; the WAL bytes one job
// costs kiln and plainjob; and the stalls of kiln's store calls when a commit checkpoints the WAL.
// Not part of `bun run bench`: run it on its own with
//   bun bench/profile.ts [--n 10000] [--peer kiln|plainjob|…] [--mode single|bulk]
// and it prints three tables (and writes bench/results/profile.json).
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitStalls, STALL_MS } from "./commit-stalls.ts";
import { formatTable, machineInfo, type Row, round, tempDir } from "./util.ts";
import { walCosts } from "./wal-frames.ts";

const CHILD = Bun.fileURLToPath(new URL("./peers/child.ts", import.meta.url));

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * What a sample's function does. A sample's time delta is the wall time since the previous
 * sample, so time the thread spent blocked in a native call (a write, an fsync) counts there.
 */
export function category(name: string, url: string): string {
  if (url === "" && (name === "run" || name === "get" || name === "all" || name === "values"))
    return "SQLite statements (bun:sqlite run/get: execute, commit, WAL writes)";
  if (url.startsWith("bun:sqlite")) return "bun:sqlite JS wrappers (transaction, bindings)";
  if (name === "postMessage") return "postMessage to workers";
  if (url.includes("/node_modules/drizzle-orm/")) return "Drizzle (query building, mapping)";
  if (url.includes("/src/store/")) return "kiln store JS (row mapping, SQL text)";
  if (url.includes("/src/engine/")) return "kiln engine JS (scheduler, transitions, events)";
  if (name === "(idle)" || name === "(program)") return "idle / waiting for the event loop";
  if (name === "gc" || name === "(garbage collector)") return "garbage collection";
  if (url.includes("/bench/")) return "benchmark driver";
  return "other";
}

async function profilePeer(peer: string, mode: string, n: number) {
  const tmp = tempDir("profile");
  try {
    const request = JSON.stringify({ peer, mode, n, timeoutMs: 120_000 });
    const child = Bun.spawn([process.execPath, "--cpu-prof", `--cpu-prof-dir=${tmp.dir}`, CHILD, request], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const out = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error(`the profiled run failed: ${out}`);
    const run = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      result?: { jobsPerSec: number; ms: number };
    };
    const file = readdirSync(tmp.dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("bun wrote no .cpuprofile");
    const profile = (await Bun.file(join(tmp.dir, file)).json()) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    // A native helper (Object.entries, a getter) is charged to the nearest caller with a source location.
    const categoryOf = (id: number): string => {
      const frame = nodes.get(id)?.callFrame;
      if (!frame) return "other";
      const own = category(frame.functionName, frame.url);
      if (own !== "other" || frame.url !== "") return own;
      const parent = parents.get(id);
      return parent === undefined ? own : categoryOf(parent);
    };
    const byCategory = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const key = categoryOf(id);
      const delta = profile.timeDeltas[i] ?? 0;
      byCategory.set(key, (byCategory.get(key) ?? 0) + delta);
      total += delta;
    });
    const rows: Row[] = [...byCategory.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([what, micros]) => ({
        "main thread, whole child process": what,
        ms: round(micros / 1000, 0),
        share: `${round((micros / total) * 100, 1)}%`,
        "µs per job": round(micros / n, 1),
      }));
    return { rows, totalMs: round(total / 1000, 0), run: run.result ?? null };
  } finally {
    tmp.cleanup();
  }
}

if (import.meta.main) {
  const arg = (name: string) => {
    const index = Bun.argv.indexOf(name);
    return index >= 0 ? Bun.argv[index + 1] : undefined;
  };
  const n = Number(arg("--n") ?? 10_000);
  const peer = arg("--peer") ?? "kiln";
  const mode = arg("--mode") ?? "single";
  const machine = machineInfo();
  console.log(
    `profile — ${machine.cpuCount} × ${machine.cpuModel}, Bun ${machine.bunVersion}, ${machine.date}`,
  );
  const profile = await profilePeer(peer, mode, n);
  console.log(
    `\n## where the main thread's wall time goes: ${peer}, ${mode} enqueue, ${n} no-op jobs (${profile.run?.jobsPerSec ?? "?"} jobs/s under the profiler)\n`,
  );
  console.log(formatTable(profile.rows));
  const wal = walCosts(Math.min(n, 5_000));
  console.log("\n## WAL written per job, same machine (a pinned reader keeps every frame in the WAL)\n");
  console.log(
    formatTable(
      wal.map((w) => ({
        system: w.system,
        jobs: w.jobs,
        "transactions/job": w.transactionsPerJob,
        "WAL bytes/job": w.walBytesPerJob,
        "WAL frames (pages)/job": w.framesPerJob,
      })),
    ),
  );
  const stalls = commitStalls(3_000);
  console.log(
    `\n## kiln store calls alone: ${stalls.calls} calls (3 per task) on a fresh file, one at a time\n`,
  );
  console.log(
    formatTable([
      {
        "p50 ms": stalls.latencyMs.median,
        "p99 ms": stalls.latencyMs.p99,
        "max ms": stalls.latencyMs.max,
        [`calls > ${STALL_MS} ms`]: stalls.stalls,
        "median calls between them": stalls.callsBetweenStalls ?? "-",
        "their median ms": stalls.stallMs?.median ?? "-",
      },
    ]),
  );
  const outDir = new URL("./results/", import.meta.url);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    new URL("profile.json", outDir),
    `${JSON.stringify({ machine, peer, mode, n, profile, wal, stalls }, null, 2)}\n`,
  );
}
