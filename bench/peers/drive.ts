// The workload every peer runs, the same for each: after WARMUP_JOBS warm-up jobs, N no-op jobs
// enqueued while the system processes them, timed from the first enqueue to the last recorded
// completion. "single": one call per job, in chunks with a yield to the event loop between
// chunks (an asynchronous API's calls of one chunk are in flight together); "bulk": the
// system's bulk call with BULK_SIZE jobs each, one call after the other.
import { LagMonitor } from "../lag-monitor.ts";
import { cpuPercent, loadAverage, machineBusyMs, round, tempDir, yieldToLoop } from "../util.ts";
import type { EnqueueMode, Peer, PeerContext, PeerResult } from "./types.ts";

/** Single enqueues between two yields to the event loop, as a stream of requests would arrive. */
export const ENQUEUE_CHUNK = 250;
/** Jobs per bulk call. */
export const BULK_SIZE = 1_000;
/** Jobs run before the clock starts (single enqueues): connections, JIT, workers warm. */
export const WARMUP_JOBS = 100;
const WARMUP_TIMEOUT_MS = 30_000;

export interface DriveOptions {
  mode: EnqueueMode;
  n: number;
  /** The run ends here even if jobs are left; their rate then counts only those completed. */
  timeoutMs: number;
}

class Completions {
  count = 0;
  lastAt = 0;
  #target = Number.POSITIVE_INFINITY;
  #wake: (() => void) | undefined;

  add(count: number): void {
    this.count += count;
    this.lastAt = performance.now();
    if (this.count >= this.#target) this.#wake?.();
  }

  /** Resolves true once `target` jobs completed since the last reset, false after `timeoutMs`. */
  until(target: number, timeoutMs: number): Promise<boolean> {
    this.#target = target;
    if (this.count >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  reset(): void {
    this.count = 0;
    this.lastAt = 0;
    this.#target = Number.POSITIVE_INFINITY;
    this.#wake = undefined;
  }
}

async function enqueueBulk(peer: Peer, n: number, deadline: number): Promise<void> {
  for (let i = 0; i < n && performance.now() < deadline; i += BULK_SIZE) {
    const result = peer.enqueueMany(Math.min(BULK_SIZE, n - i));
    if (result instanceof Promise) await result;
    await yieldToLoop();
  }
}

async function enqueueSingly(peer: Peer, n: number, deadline: number): Promise<void> {
  for (let i = 0; i < n && performance.now() < deadline; i += ENQUEUE_CHUNK) {
    const pending: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + ENQUEUE_CHUNK); j++) {
      const result = peer.enqueue();
      if (result instanceof Promise) pending.push(result);
    }
    if (pending.length > 0) await Promise.all(pending);
    await yieldToLoop();
  }
}

export async function drive(peer: Peer, options: DriveOptions): Promise<PeerResult> {
  const { mode, n, timeoutMs } = options;
  const tmp = tempDir("peer");
  const completions = new Completions();
  const ctx: PeerContext = {
    dir: tmp.dir,
    namespace: `kiln_bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`,
    completed: (count = 1) => completions.add(count),
  };
  try {
    await peer.setup(ctx);
    const warmup = WARMUP_JOBS;
    await enqueueSingly(peer, warmup, Number.POSITIVE_INFINITY);
    if (!(await completions.until(warmup, WARMUP_TIMEOUT_MS)))
      throw new Error(`${peer.label}: warm-up jobs did not complete within ${WARMUP_TIMEOUT_MS} ms`);
    await peer.settle?.(warmup, WARMUP_TIMEOUT_MS);
    completions.reset();
    Bun.gc(true);

    const load = loadAverage();
    const lag = new LagMonitor().start();
    const cpu0 = process.cpuUsage();
    const machine0 = machineBusyMs();
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    const done = completions.until(n, timeoutMs);
    await (mode === "bulk" ? enqueueBulk : enqueueSingly)(peer, n, deadline);
    const enqueueMs = performance.now() - t0;
    let completed = await done;
    let end = completed ? completions.lastAt : performance.now();
    if (completed && peer.settle) {
      completed = await peer.settle(warmup + n, Math.max(1_000, deadline - performance.now()));
      end = performance.now();
    }
    const ms = end - t0;
    const cpu = process.cpuUsage(cpu0);
    const machine1 = machineBusyMs();
    const lagSummary = lag.stop();
    const count = Math.min(n, completions.count);
    return {
      label: peer.label,
      version: peer.version,
      settings: peer.settings,
      why: peer.why,
      mode,
      jobs: n,
      completed: count,
      timedOut: !completed,
      ms: round(ms, 1),
      enqueueMs: round(enqueueMs, 1),
      jobsPerSec: round((count / ms) * 1000, 0),
      completedInStore: await peer.completedInStore(),
      warmupJobs: warmup,
      processCpuPercent: cpuPercent((cpu.user + cpu.system) / 1000, ms),
      machineCpuPercent: machine0 === null || machine1 === null ? null : cpuPercent(machine1 - machine0, ms),
      loadAverage: load,
      lag: lagSummary,
      durability: await peer.durability(),
    };
  } finally {
    // A teardown that fails the run (a worker process that ended during it) still leaves no files.
    try {
      await peer.teardown();
    } finally {
      tmp.cleanup();
    }
  }
}
