// The http bench's GET phases give the load generator a CPU of its own (bench/cpu-split.ts). Its
// figures mean what BENCHMARKS.md says only if the processes really run where it says, and get
// their CPUs back afterwards: checked here on a real child process with taskset.
import { expect, test } from "bun:test";
import { cpuIds, withCpuSplit } from "../../bench/cpu-split.ts";

function affinity(pid: number): string {
  const out = Bun.spawnSync(["taskset", "-c", "-p", String(pid)], { stdout: "pipe" }).stdout.toString();
  return /:\s*(\S+)\s*$/.exec(out)?.[1] ?? "";
}

test("taskset's CPU lists are read as the CPUs they name", () => {
  expect(cpuIds("0")).toEqual([0]);
  expect(cpuIds("0,1")).toEqual([0, 1]);
  expect(cpuIds("0-3")).toEqual([0, 1, 2, 3]);
  expect(cpuIds("0,2-4,7")).toEqual([0, 2, 3, 4, 7]);
});

test("a split phase runs the client on one CPU and the servers on the others, then gives each its CPUs back", async () => {
  const server = Bun.spawn(["sleep", "30"]);
  try {
    const clientBefore = affinity(process.pid);
    const serverBefore = affinity(server.pid);
    const cpus = cpuIds(clientBefore);
    const seen = await withCpuSplit([server.pid], async (split) => {
      return { split, client: affinity(process.pid), server: affinity(server.pid) };
    });
    if (process.platform === "linux" && Bun.which("taskset") !== null && cpus.length >= 2) {
      expect(seen.split).toEqual({ pinned: true, client: String(cpus[0]), servers: cpus.slice(1).join(",") });
      expect(cpuIds(seen.client)).toEqual([cpus[0] as number]);
      expect(cpuIds(seen.server)).toEqual(cpus.slice(1));
    } else {
      expect(seen.split.pinned).toBe(false);
    }
    expect(affinity(process.pid)).toBe(clientBefore);
    expect(affinity(server.pid)).toBe(serverBefore);
  } finally {
    server.kill();
  }
});
