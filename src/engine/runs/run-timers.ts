import { Control } from "../../worker/protocol.ts";
import type { RunEnd } from "../lifecycle/run-settlement.ts";
import type { WorkerPool } from "./pool.ts";
import type { RunExecutorOptions } from "./run-executor.ts";
import { advance, type LiveRun } from "./runs.ts";

/**
 * A run's two clocks: its time limit, after which it is asked to stop, and the grace period of a
 * stop, after which its worker is terminated and the run ended.
 */
export class RunTimers {
  constructor(
    private readonly pool: WorkerPool,
    private readonly options: Pick<RunExecutorOptions, "stopGraceMs">,
    /** The run's end, as the worker would have reported it. */
    private readonly end: (run: LiveRun, end: RunEnd) => void,
  ) {}

  /** Asks the worker to stop at its next checkpoint; past the grace period it is terminated. */
  askToStop(run: LiveRun, reason: string): void {
    run.host.setControl(Control.STOP);
    run.host.post({ type: "stop", reason });
    const grace = run.task.stopGraceMs ?? this.options.stopGraceMs;
    if (run.graceTimer) clearTimeout(run.graceTimer);
    run.graceTimer = setTimeout(() => {
      run.graceTimer = undefined;
      this.pool.terminate(run.host);
      this.end(run, {
        type: "stopped",
        taskId: run.taskId,
        reason: `did not reach a checkpoint within ${grace} ms; its worker was terminated`,
      });
    }, grace);
  }

  armTimeout(run: LiveRun): void {
    const limit = run.task.timeoutMs;
    if (limit === undefined) return;
    run.timeoutTimer = setTimeout(
      () => {
        run.timeoutTimer = undefined;
        const before = advance(run, { type: "timeout" });
        if (before === run.phase) return; // already stopping, or parked
        this.askToStop(run, `timed out after ${limit} ms`);
      },
      Math.max(0, limit - run.usedMs),
    );
  }
}
