// Helpers shared by the benchmark scenarios: temp dirs, statistics, tables, event waits.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { ManagerEvent, TaskManager } from "../src/index.ts";
import type { LagSummary } from "./lag-monitor.ts";

export const TASKS_URL = new URL("./tasks.ts", import.meta.url);

export interface BenchOptions {
  quick: boolean;
  /** Rounds of the peers scenario (default: 5, or 1 with --quick). */
  rounds?: number | undefined;
  /** The peers scenario's systems by id (default: all). */
  systems?: string[] | undefined;
}

/** A row of a printed table: column name → cell. */
export type Row = Record<string, string | number>;

/** One line of the closing "against the aims" table. */
export interface Headline {
  what: string;
  aim: string;
  measured: string;
  /** Null where there is no stated aim, only a figure worth seeing next to the others. */
  met: boolean | null;
}

export interface ScenarioResult {
  name: string;
  /** Tables to print, each with a title. */
  tables: { title: string; rows: Row[] }[];
  /** Everything measured, for latest.json. */
  figures: Record<string, unknown>;
  notes: string[];
  headlines?: Headline[];
  /** Event-loop lag of the processes under test (a server in a child process, a peer's child). */
  lag?: { where: string; lag: LagSummary }[];
}

export interface Scenario {
  name: string;
  run(options: BenchOptions): Promise<ScenarioResult>;
}

export function machineInfo() {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? "unknown",
    cpuCount: list.length,
    totalMemoryBytes: totalmem(),
    totalMemoryGiB: round(totalmem() / 2 ** 30, 1),
    platform: `${platform()} ${release()}`,
    arch: process.arch,
    bunVersion: Bun.version,
    bunRevision: Bun.revision,
    date: new Date().toISOString(),
  };
}

/** A fresh temp directory; `cleanup()` removes it. */
export function tempDir(prefix: string): { dir: string; db: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `kiln-bench-${prefix}-`));
  return {
    dir,
    db: join(dir, "kiln.db"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    median: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(percentile(sorted, 99), 3),
    max: round(sorted.at(-1) ?? Number.NaN, 3),
    min: round(sorted[0] ?? Number.NaN, 3),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN, 3),
  };
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function formatTable(rows: Row[]): string {
  const first = rows[0];
  if (!first) return "(no rows)";
  const columns = Object.keys(first);
  const cell = (value: string | number | undefined) =>
    value === undefined ? "" : typeof value === "number" ? value.toLocaleString("en-US") : value;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === "number" || r[c] === undefined));
  const line = (cells: string[]) =>
    cells
      .map((text, i) => (numeric[i] ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0)))
      .join("  ");
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join("\n");
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution: comparable across processes
 * on the same machine, unlike `performance.now()`, whose origin is each process's start.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Busy CPU time of the whole machine in ms, from /proc/stat; null where there is none. */
export function machineBusyMs(): number | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]
      ?.trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    if (!fields || fields.length < 8) return null;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    // /proc/stat counts in USER_HZ ticks, which is 100 per second on every mainstream Linux build.
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return null;
  }
}

/** The machine's 1-minute load average (runnable threads, all processes), or null where there is none. */
export function loadAverage(): number | null {
  if (platform() !== "linux") return null;
  return round(loadavg()[0] ?? Number.NaN, 2);
}

/** Resident set size of another process in bytes, from /proc; null off Linux or once it is gone. */
export function processRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system, all threads) of another process in microseconds, from /proc; null off Linux. */
export function processCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    // Clock ticks of USER_HZ, 100 per second on mainstream Linux builds.
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * 10_000 : null;
  } catch {
    return null;
  }
}

/** CPU time over wall time, in % of one core. */
export function cpuPercent(cpuMs: number, wallMs: number): number {
  return round((cpuMs / wallMs) * 100, 0);
}

export function mib(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}

/** Yields to the event loop (worker messages, timers) rather than only to microtasks. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Waiter {
  match: (event: ManagerEvent) => boolean;
  resolve: (at: number) => void;
}

/**
 * One subscription to a manager's events that resolves waits with the `performance.now()` at
 * which the matching event was emitted. Register the wait before the call that causes it.
 */
export class EventWaiter {
  readonly #waiters = new Set<Waiter>();
  readonly #unsubscribe: () => void;

  constructor(manager: TaskManager) {
    this.#unsubscribe = manager.subscribe((event) => {
      if (this.#waiters.size === 0) return;
      const at = performance.now();
      for (const waiter of this.#waiters) {
        if (waiter.match(event)) {
          this.#waiters.delete(waiter);
          waiter.resolve(at);
        }
      }
    });
  }

  /** Resolves with the time of the first matching event; rejects after `timeoutMs`. */
  wait(match: (event: ManagerEvent) => boolean, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  transition(id: string, to: string, timeoutMs: number): Promise<number> {
    return this.wait(
      (e) => e.type === "transition" && e.task.id === id && e.to === to,
      timeoutMs,
      `task ${id} → ${to}`,
    );
  }

  log(id: string, message: string, timeoutMs: number): Promise<number> {
    return this.wait(
      (e) => e.type === "log" && e.taskId === id && e.message === message,
      timeoutMs,
      `log "${message}" of task ${id}`,
    );
  }

  close(): void {
    this.#unsubscribe();
    this.#waiters.clear();
  }
}

/**
 * CPU time of this process's main thread alone (where the engine runs; workers not counted), in
 * ms, on Linux; null elsewhere. Wall time on a shared machine mostly says how busy the others
 * are; this says what the main thread itself spent.
 */
export function mainThreadCpuMs(): number | null {
  const path = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(path)) return null;
  const stat = readFileSync(path, "utf8");
  // utime and stime, fields 14 and 15, counted after the ")" that ends the thread's name.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // In clock ticks of 1/100 s (USER_HZ, 100 on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
