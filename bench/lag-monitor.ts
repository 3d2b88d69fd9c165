// Event-loop lag: how late a timer that asks to run every RESOLUTION_MS actually runs. A turn
// of the loop that holds the thread for 40 ms shows as one sample of about 40 ms; the p99 and
// the maximum of a phase say whether anything stalled the thread that answers requests.
import { round } from "./util.ts";

const RESOLUTION_MS = 5;
/** A sample above this is counted as a stall (the aim for queries at 1M tasks). */
export const STALL_MS = 10;

export interface LagSummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples over STALL_MS. */
  stalls: number;
}

export class LagMonitor {
  #samples: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expected = 0;

  start(): this {
    this.#expected = performance.now() + RESOLUTION_MS;
    const tick = () => {
      const now = performance.now();
      this.#samples.push(Math.max(0, now - this.#expected));
      this.#expected = now + RESOLUTION_MS;
      this.#timer = setTimeout(tick, RESOLUTION_MS);
    };
    this.#timer = setTimeout(tick, RESOLUTION_MS);
    // Never the reason a process stays alive.
    (this.#timer as { unref?: () => void }).unref?.();
    return this;
  }

  /** What was measured since the start or the last reset. */
  summary(reset = false): LagSummary {
    const summary = summarizeLag(this.#samples);
    if (reset) this.#samples = [];
    return summary;
  }

  /** The lag of the tick still pending counts too: a thread held until the end shows as such. */
  stop(): LagSummary {
    clearTimeout(this.#timer);
    const late = performance.now() - this.#expected;
    if (late > 0) this.#samples.push(late);
    return this.summary(true);
  }
}

export function summarizeLag(values: readonly number[]): LagSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    samples: sorted.length,
    p50Ms: round(at(50), 2),
    p99Ms: round(at(99), 2),
    maxMs: round(sorted.at(-1) ?? 0, 2),
    stalls: sorted.filter((value) => value > STALL_MS).length,
  };
}

/** "p99 0.4 / max 12.3 ms (2 stalls > 10 ms)" */
export function lagText(lag: LagSummary | null | undefined): string {
  if (!lag) return "-";
  return `p99 ${lag.p99Ms} / max ${lag.maxMs} ms${lag.stalls > 0 ? ` (${lag.stalls} > ${STALL_MS} ms)` : ""}`;
}
