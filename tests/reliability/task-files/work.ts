// The workload of the crash-loop test: steps with a checkpoint after each, and a line appended
// to a file when a run completes, so the test can tell how often each task really ran.
import { appendFileSync } from "node:fs";
import { BaseTask, t } from "kiln";

const Params = t.Object({
  steps: t.Integer({ minimum: 1, maximum: 1_000 }),
  stepMs: t.Integer({ minimum: 0, maximum: 1_000 }),
  journal: t.String({ minLength: 1 }),
});
type Params = { steps: number; stepMs: number; journal: string };

export class Work extends BaseTask<Params, { steps: number }, { done: number }> {
  static override taskName = "work";
  static override params = Params;
  static override checkpointIntervalMs = 0;

  override async run(params: Params) {
    for (let done = this.state?.done ?? 0; done < params.steps; ) {
      await Bun.sleep(params.stepMs);
      done++;
      this.progress(done, params.steps);
      await this.checkpoint({ done });
    }
    appendFileSync(params.journal, `${this.taskId}\n`);
    return { steps: params.steps };
  }
}
