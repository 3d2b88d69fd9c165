// A task file as an operator writes it: it imports the SDK as "kiln", nothing else.
import { BaseTask, t, UnrecoverableError } from "kiln";

const Params = t.Object({
  steps: t.Integer({ minimum: 1, maximum: 100_000 }),
  stepMs: t.Integer({ minimum: 0, default: 50 }),
});
type Params = { steps: number; stepMs: number };
type State = { done: number };

export class Stepper extends BaseTask<Params, { steps: number; resumedFrom: number }, State> {
  static override taskName = "stepper";
  static override description = "Counts steps, checkpointing after each one";
  static override params = Params;

  override async run(params: Params) {
    const resumedFrom = this.state?.done ?? 0;
    this.log("info", `starting at step ${resumedFrom}`);
    for (let done = resumedFrom; done < params.steps; ) {
      await Bun.sleep(params.stepMs);
      done++;
      this.progress(done, params.steps, `step ${done}`);
      await this.checkpoint({ done });
    }
    return { steps: params.steps, resumedFrom };
  }
}

/** Fails with the SDK's UnrecoverableError: retried only if the worker saw a different class. */
export class GiveUp extends BaseTask {
  static override taskName = "give-up";
  static override retry = { attempts: 3, backoffMs: 10 };

  override async run(): Promise<never> {
    throw new UnrecoverableError("nothing to retry");
  }
}
