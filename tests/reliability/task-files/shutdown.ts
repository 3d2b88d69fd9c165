// Tasks of the shutdown tests: one that checkpoints after every step, one that does not reach
// a checkpoint again for a long time, so a shutdown has to wait for it.
import { BaseTask, t } from "kiln";

const TickerParams = t.Object({
  steps: t.Integer({ minimum: 1, maximum: 100_000 }),
  stepMs: t.Integer({ minimum: 0, maximum: 1_000 }),
});
type TickerParams = { steps: number; stepMs: number };

export class Ticker extends BaseTask<TickerParams, { steps: number }, { done: number }> {
  static override taskName = "ticker";
  static override params = TickerParams;
  static override checkpointIntervalMs = 0;

  override async run(params: TickerParams) {
    const from = this.state?.done ?? 0;
    this.log("info", `starting at step ${from}`);
    for (let done = from; done < params.steps; ) {
      await Bun.sleep(params.stepMs);
      done++;
      this.progress(done, params.steps, `step ${done}`);
      this.log("info", `step ${done}`);
      await this.checkpoint({ done });
    }
    return { steps: params.steps };
  }
}

const SleeperParams = t.Object({ sleepMs: t.Integer({ minimum: 0, maximum: 600_000 }) });
type SleeperParams = { sleepMs: number };

export class Sleeper extends BaseTask<SleeperParams, { round: number }, { round: number }> {
  static override taskName = "sleeper";
  static override params = SleeperParams;
  static override checkpointIntervalMs = 0;

  override async run(params: SleeperParams) {
    const round = (this.state?.round ?? 0) + 1;
    this.log("info", `round ${round}`);
    await this.checkpoint({ round });
    // No checkpoint in here: a pause or a shutdown cannot take effect until it ends.
    await Bun.sleep(params.sleepMs);
    return { round };
  }
}
