import { type Static, Type } from "@sinclair/typebox";
import { BaseTask } from "../task/index.ts";
import { abortableSleep } from "./abortable-sleep.ts";

const DEFAULT_TO = 10;
const DEFAULT_DELAY_MS = 100;
/** Logging every step of a long count would flood the task log; about this many lines is enough. */
const LOG_LINES = 100;

const CountParams = Type.Object({
  to: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULT_TO, description: "Count from 1 to this." })),
  delayMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: DEFAULT_DELAY_MS,
      description: "Pause between two steps, in milliseconds.",
    }),
  ),
});

const CountResult = Type.Object({ counted: Type.Integer({ minimum: 0 }) });

/** `next` is the number not yet counted. */
export interface CountState {
  next: number;
}

/** A demonstration task: counts slowly, checkpointing every step, so pause and resume are easy to watch. */
export class CountTask extends BaseTask<Static<typeof CountParams>, Static<typeof CountResult>, CountState> {
  static override taskName = "count";
  static override description = "Counts from 1 to `to`, one step every `delayMs` ms (a demo of checkpoints).";
  static override params = CountParams;
  static override result = CountResult;

  override async run(params: Static<typeof CountParams>): Promise<Static<typeof CountResult>> {
    const to = params.to ?? DEFAULT_TO;
    const delayMs = params.delayMs ?? DEFAULT_DELAY_MS;
    const logEvery = Math.max(1, Math.ceil(to / LOG_LINES));
    const first = this.#firstStep(to);
    if (first > 1) this.log("info", `resuming at ${first} of ${to}`);
    this.progress(first - 1, to);

    for (let n = first; n <= to; n++) {
      if (n > 1) await abortableSleep(delayMs, this.signal);
      // Before counting n: a stop that cut the sleep short takes effect here, and n is counted again on resume.
      await this.checkpoint({ next: n });
      this.progress(n, to, `counted ${n} of ${to}`);
      if (n % logEvery === 0 || n === to) this.log("info", `counted ${n}`);
    }
    return { counted: to };
  }

  #firstStep(to: number): number {
    const saved = this.state;
    if (saved === undefined) return 1;
    const next = saved.next;
    if (Number.isSafeInteger(next) && next >= 1) return Math.min(next, to + 1);
    this.log("warn", `ignoring a malformed checkpoint ${JSON.stringify(saved)}; counting from 1`);
    return 1;
  }
}
