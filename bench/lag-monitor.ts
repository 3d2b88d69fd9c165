// Event-loop lag: how late a timer that asks to run every RESOLUTION_MS actually runs. A turn
// of the loop that holds the thread for 40 ms shows as one sample of about 40 ms; the p99 and
// the maximum of a phase say whether anything stalled the thread that answers requests.
// Where Linux tells (/proc/thread-self/schedstat), each stall also says how much of it the thread
// ran and how much it waited for a CPU: its own work, or the machine's other threads.
import { closeSync, openSync, readSync } from "node:fs";
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
  /**
   * Each stall's time on the CPU and waiting for one, between the tick before it and its own
   * (the thread's schedstat); empty where the kernel does not tell.
   */
  stallTimes: StallTime[];
}

/** A stall: how late the tick was, and how the monitored thread spent the time since the last one. */
export interface StallTime {
  lagMs: number;
  ranMs: number;
  waitedMs: number;
}

const SCHEDSTAT = "/proc/thread-self/schedstat";

/**
 * The calling thread's time on a CPU and waiting in a run queue, in ns, read from a file kept
 * open (a pread is about 1 µs here; opening it each time, about 6); null where Linux does not tell.
 * The file must be opened on the thread it describes: `thread-self` is resolved at open.
 */
class ThreadSchedTimes {
  readonly #fd: number;
  readonly #buffer = Buffer.alloc(128);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  static open(): ThreadSchedTimes | null {
    try {
      return new ThreadSchedTimes(openSync(SCHEDSTAT, "r"));
    } catch {
      return null;
    }
  }

  read(): [ran: number, waited: number] | null {
    try {
      const length = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0);
      const [ran, waited] = this.#buffer.toString("latin1", 0, length).split(" ").map(Number);
      return ran !== undefined && waited !== undefined ? [ran, waited] : null;
    } catch {
      return null;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

export class LagMonitor {
  #samples: number[] = [];
  #stallTimes: StallTime[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expected = 0;
  #sched: [ran: number, waited: number] | null = null;
  #schedTimes: ThreadSchedTimes | null = null;

  start(): this {
    this.#expected = performance.now() + RESOLUTION_MS;
    this.#schedTimes = ThreadSchedTimes.open();
    this.#sched = this.#schedTimes?.read() ?? null;
    const tick = () => {
      const now = performance.now();
      const lag = Math.max(0, now - this.#expected);
      this.#samples.push(lag);
      const sched = this.#schedTimes?.read() ?? null;
      if (lag > STALL_MS && sched && this.#sched) {
        this.#stallTimes.push({
          lagMs: round(lag, 2),
          ranMs: round((sched[0] - this.#sched[0]) / 1e6, 2),
          waitedMs: round((sched[1] - this.#sched[1]) / 1e6, 2),
        });
      }
      this.#sched = sched;
      this.#expected = now + RESOLUTION_MS;
      this.#arm(tick);
    };
    this.#arm(tick);
    return this;
  }

  /** Every tick's timer, never the reason a process stays alive. */
  #arm(tick: () => void): void {
    this.#timer = setTimeout(tick, RESOLUTION_MS);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** What was measured since the start or the last reset. */
  summary(reset = false): LagSummary {
    const summary = { ...summarizeLag(this.#samples), stallTimes: [...this.#stallTimes] };
    if (reset) {
      this.#samples = [];
      this.#stallTimes = [];
    }
    return summary;
  }

  /** The lag of the tick still pending counts too: a thread held until the end shows as such. */
  stop(): LagSummary {
    clearTimeout(this.#timer);
    this.#schedTimes?.close();
    this.#schedTimes = null;
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
    stallTimes: [],
  };
}

/** "p99 0.4 / max 12.3 ms (2 > 10 ms; 12.3 ms: ran 2.1, waited 11.9)" */
export function lagText(lag: LagSummary | null | undefined): string {
  if (!lag) return "-";
  const times = (lag.stallTimes ?? [])
    .map((stall) => `; ${stall.lagMs} ms: ran ${stall.ranMs}, waited ${stall.waitedMs}`)
    .join("");
  return `p99 ${lag.p99Ms} / max ${lag.maxMs} ms${lag.stalls > 0 ? ` (${lag.stalls} > ${STALL_MS} ms${times})` : ""}`;
}
