import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LagMonitor, lagText, STALL_MS } from "../../bench/lag-monitor.ts";

describe("bench lag monitor", () => {
  test("a stall is counted, and on Linux it says how long the thread ran in it", async () => {
    const monitor = new LagMonitor().start();
    await Bun.sleep(20);
    // Holds the thread for three stalls' worth: the tick due meanwhile runs that late.
    const until = performance.now() + 3 * STALL_MS;
    while (performance.now() < until) {
      // Busy: the thread runs the whole time.
    }
    await Bun.sleep(20);
    const lag = monitor.stop();
    expect(lag.stalls).toBeGreaterThanOrEqual(1);
    expect(lag.maxMs).toBeGreaterThan(2 * STALL_MS);
    if (existsSync("/proc/thread-self/schedstat")) {
      const stall = lag.stallTimes.find((s) => s.lagMs > 2 * STALL_MS);
      expect(stall).toBeDefined();
      // It ran for most of the stall; what it waited for a CPU is counted apart.
      expect(stall?.ranMs ?? 0).toBeGreaterThan(STALL_MS);
      expect(stall?.waitedMs ?? -1).toBeGreaterThanOrEqual(0);
      expect(lagText(lag)).toContain(`${stall?.lagMs} ms: ran ${stall?.ranMs}, waited ${stall?.waitedMs}`);
    }
  });

  test("a running monitor does not keep its process alive", async () => {
    const monitor = join(import.meta.dir, "../../bench/lag-monitor.ts");
    // Outlives several ticks, then nothing else is pending: the process must end by itself.
    const script = `import { LagMonitor } from ${JSON.stringify(monitor)}; new LagMonitor().start(); setTimeout(() => {}, 50);`;
    const child = Bun.spawn([process.execPath, "--eval", script], { stdout: "pipe", stderr: "pipe" });
    const ended = await Promise.race([child.exited, Bun.sleep(20_000).then(() => "still running")]);
    if (ended === "still running") child.kill();
    expect(ended).toBe(0);
  });
});
