// Task classes the benchmarks run. Loaded with `manager.load(new URL("./tasks.ts", import.meta.url))`.
import { BaseTask, t } from "../src/index.ts";

/** Does nothing and finishes: the cost of one task's round trip through kiln. */
export class NoopTask extends BaseTask<unknown, null> {
  static override taskName = "bench-noop";
  async run(): Promise<null> {
    return null;
  }
}

/** A checkpoint that waited at least this long was a pause: the task says so with a log line. */
export const RESUMED_AFTER_MS = 2;
export const RESUMED_LOG = "bench: resumed";
export const STARTED_LOG = "bench: started";

/**
 * Checkpoints about every millisecond, forever. `sleep` mode awaits `Bun.sleep(1)` between
 * checkpoints (timer resolution makes the gap ~1-1.3 ms); `busy` mode spins on
 * `performance.now()` for 1 ms, so the worker thread is never idle. After a checkpoint that
 * waited (a pause), it logs `RESUMED_LOG`, which tells the benchmark when the worker ran again;
 * `run()` logs `STARTED_LOG` first, which tells when its code (not just its RUNNING row) started.
 */
export class TickTask extends BaseTask<{ mode: "sleep" | "busy" }, never> {
  static override taskName = "bench-tick";
  static override params = t.Object({
    mode: t.Union([t.Literal("sleep"), t.Literal("busy")], { default: "sleep" }),
  });
  async run(params: { mode: "sleep" | "busy" }): Promise<never> {
    this.log("info", STARTED_LOG);
    for (;;) {
      const before = performance.now();
      await this.checkpoint();
      const after = performance.now();
      if (after - before >= RESUMED_AFTER_MS) this.log("info", RESUMED_LOG);
      if (params.mode === "busy") {
        while (performance.now() - after < 1) {
          // 1 ms of CPU between checkpoints.
        }
      } else {
        await Bun.sleep(1);
      }
    }
  }
}

/** Waits at a checkpoint every 20 ms until paused or stopped: a task that holds a worker and little else. */
export class IdleTask extends BaseTask<unknown, never> {
  static override taskName = "bench-idle";
  async run(): Promise<never> {
    for (;;) {
      await this.checkpoint();
      await Bun.sleep(20);
    }
  }
}

export const SPIN_LOG = "bench: spinning";

/**
 * Never reaches a checkpoint: a stop ends only when the grace period runs out and the worker is
 * terminated. It sets no grace of its own, so the manager's default applies, as for a user's task.
 */
export class SpinTask extends BaseTask<unknown, never> {
  static override taskName = "bench-spin";
  async run(): Promise<never> {
    this.log("info", SPIN_LOG);
    await Bun.sleep(0);
    for (;;) {
      // A CPU loop with no checkpoint.
    }
  }
}

/** Progress calls between two checkpoints of the firehose task. */
const FIREHOSE_BURST = 1024;

/** What a firehose task returns: its progress() calls, and when (epoch ms) and for how long it made them. */
export interface FirehoseResult {
  calls: number;
  startedAt: number;
  ms: number;
}

/**
 * Waits until `startAt` (epoch ms, so that many tasks start together), then calls progress() as
 * fast as it can for `durationMs`, with a checkpoint every FIREHOSE_BURST calls. Its result says
 * how many calls it made (its last progress value is the same count) and when it began.
 */
export class FirehoseTask extends BaseTask<{ startAt: number; durationMs: number }, FirehoseResult> {
  static override taskName = "bench-firehose";
  static override params = t.Object({
    startAt: t.Number(),
    durationMs: t.Integer({ minimum: 1, maximum: 600_000 }),
  });
  async run(params: { startAt: number; durationMs: number }): Promise<FirehoseResult> {
    const wait = params.startAt - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    const startedAt = Date.now();
    const t0 = performance.now();
    const end = t0 + params.durationMs;
    let calls = 0;
    while (performance.now() < end) {
      for (let i = 0; i < FIREHOSE_BURST; i++) this.progress(++calls);
      await this.checkpoint();
    }
    return { calls, startedAt, ms: performance.now() - t0 };
  }
}
