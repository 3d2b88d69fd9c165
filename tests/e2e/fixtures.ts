// Task classes the browser tests drive: slow enough to watch, loud enough to follow.
import { Type as t } from "@sinclair/typebox";
import { BaseTask } from "../../src/index.ts";

/** Takes `steps` steps of `delayMs`, logging each and checkpointing between them; fails at the end if asked. */
export class StepperTask extends BaseTask<
  { steps: number; delayMs: number; fail: boolean },
  { steps: number },
  { next: number }
> {
  static override taskName = "e2e-stepper";
  static override description = "Takes slow steps, logging and checkpointing each one.";
  static override checkpointIntervalMs = 0;
  static override params = t.Object({
    steps: t.Integer({ minimum: 1, maximum: 100_000, description: "How many steps to take" }),
    delayMs: t.Integer({ minimum: 0, maximum: 10_000, default: 200, description: "Time per step in ms" }),
    fail: t.Boolean({ default: false, description: "Throw after the last step" }),
  });

  async run(params: { steps: number; delayMs: number; fail: boolean }) {
    for (let step = this.state?.next ?? 0; step < params.steps; step++) {
      await this.checkpoint({ next: step });
      this.progress(step, params.steps, `step ${step + 1} of ${params.steps}`);
      this.log("info", `step ${step + 1} of ${params.steps}`);
      await Bun.sleep(params.delayMs);
    }
    this.progress(params.steps, params.steps, "done");
    if (params.fail) throw new Error(`gave up after step ${params.steps}`);
    return { steps: params.steps };
  }
}

/** Writes markup into its log and its error: a page that rendered it as HTML would run it. */
export class HostileTask extends BaseTask<{ holdMs: number }, never> {
  static override taskName = "e2e-hostile";
  static override description = "Logs <script> and <img onerror> lines, then fails with markup in its error.";
  static override params = t.Object({ holdMs: t.Integer({ minimum: 0, default: 0 }) });

  async run(params: { holdMs: number }): Promise<never> {
    this.log("warn", "<script>window.__pwned = 1</script>");
    this.log("warn", '<img src="x" onerror="window.__pwned = 2">');
    await Bun.sleep(params.holdMs);
    throw new Error('<img src="x" onerror="window.__pwned = 3"> broke on purpose');
  }
}
