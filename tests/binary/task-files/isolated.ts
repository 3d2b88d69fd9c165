// Task files whose runs execute in a child process of the binary (`isolation = "process"`).
import { BaseTask, t } from "kiln";

type Params = { steps: number; stepMs: number };

export class IsolatedStepper extends BaseTask<
  Params,
  { pid: number; resumedFrom: number },
  { done: number }
> {
  static override taskName = "isolated-stepper";
  static override isolation = "process" as const;
  static override params = t.Object({
    steps: t.Integer({ minimum: 1, maximum: 10_000 }),
    stepMs: t.Integer({ minimum: 0, default: 20 }),
  });

  override async run(params: Params) {
    this.log("info", `pid ${process.pid}`);
    const resumedFrom = this.state?.done ?? 0;
    for (let done = resumedFrom; done < params.steps; ) {
      await Bun.sleep(params.stepMs);
      done++;
      this.progress(done, params.steps, `step ${done}`);
      await this.checkpoint({ done });
    }
    return { pid: process.pid, resumedFrom };
  }
}

/** Allocates in a synchronous loop with no checkpoint; stops by itself at 1 GB. */
export class IsolatedHog extends BaseTask<unknown, { reachedMb: number }> {
  static override taskName = "isolated-hog";
  static override isolation = "process" as const;

  override async run() {
    const kept: Float64Array[] = [];
    for (let mb = 0; mb < 1024; mb += 8) kept.push(new Float64Array(1024 * 1024).fill(mb));
    return { reachedMb: kept.length * 8 };
  }
}
