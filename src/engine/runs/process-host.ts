import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import {
  Control,
  type ControlValue,
  type FromWorker,
  PARENT_PID_ENV,
  type ToWorker,
} from "../../worker/protocol.ts";
import type { RunHost } from "./run-host.ts";

/** How often the parent reads a task process's resident size. */
const RSS_SAMPLE_MS = 50;
/** Bytes of a task process's stderr kept to explain its crash. */
const STDERR_TAIL = 4_096;
/** How long after its exit the child's last stderr lines may take to arrive. */
const STDERR_DRAIN_MS = 250;

export interface ProcessHostHooks {
  onMessage(host: ProcessHost, message: FromWorker): void;
  /** The process ended; `exitCode` is null when a signal ended it. */
  onExit(host: ProcessHost, exitCode: number | null, signal: string | null): void;
}

/** The resident size of a process in bytes, from /proc (Linux); undefined where unreadable. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One run in a child process of the same executable, speaking the worker protocol over Bun's
 * IPC. The control word cannot be shared across processes: each change is sent as a `control`
 * message that the child applies to its own word. The memory cap is checked on the child's
 * real resident size, sampled here, so it holds whatever the task does (a synchronous loop,
 * one huge allocation, native memory).
 */
export class ProcessHost implements RunHost {
  readonly kind = "task process";
  lastError: string | undefined;
  terminating = false;
  exited = false;
  readonly closed: Promise<void>;
  readonly #child: Subprocess<"ignore", "inherit", "pipe">;
  #control: ControlValue = Control.NONE;
  #rssTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly id: number,
    command: readonly string[],
    private readonly hooks: ProcessHostHooks,
  ) {
    this.#child = Bun.spawn([...command], {
      stdio: ["ignore", "inherit", "pipe"],
      env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
      serialization: "advanced",
      ipc: (message: FromWorker) => this.hooks.onMessage(this, message),
    });
    const stderrRead = this.#readStderr();
    this.closed = this.#child.exited.then(async () => {
      // The error line that explains a crash is written just before the exit; a grandchild
      // holding stderr open must not delay the report for long.
      await Promise.race([stderrRead, Bun.sleep(STDERR_DRAIN_MS)]);
      this.exited = true;
      this.#stopSampling();
      const signal = this.#child.signalCode;
      this.hooks.onExit(this, this.#child.exitCode, signal === null ? null : String(signal));
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  post(message: ToWorker): void {
    if (this.exited || this.terminating) return;
    if (message.type === "run" && message.memoryLimitBytes !== undefined) {
      this.#sampleRss(message.taskId, message.memoryLimitBytes);
    }
    try {
      this.#child.send(message);
    } catch (error) {
      // The child is gone and its exit has not been seen yet: the exit reports the crash.
      this.lastError ??= `the message could not be sent: ${String(error)}`;
    }
  }

  setControl(value: ControlValue): void {
    if (value === this.#control) return;
    this.#control = value;
    this.post({ type: "control", value });
  }

  end(): void {
    this.terminating = true;
    this.#stopSampling();
    if (!this.exited) this.#child.kill("SIGKILL");
  }

  #sampleRss(taskId: string, limitBytes: number): void {
    this.#stopSampling();
    this.#rssTimer = setInterval(() => {
      const usedBytes = residentBytes(this.#child.pid);
      if (usedBytes === undefined || usedBytes <= limitBytes) return;
      this.#stopSampling();
      this.hooks.onMessage(this, { type: "memory", taskId, usedBytes, limitBytes, measured: "rss" });
    }, RSS_SAMPLE_MS);
    this.#rssTimer.unref();
  }

  #stopSampling(): void {
    if (this.#rssTimer) clearInterval(this.#rssTimer);
    this.#rssTimer = undefined;
  }

  /** Passes the child's stderr through and keeps its last error line for the crash report. */
  async #readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    let tail = "";
    for await (const chunk of this.#child.stderr) {
      process.stderr.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
      const errorLine = tail
        .split("\n")
        .reverse()
        .find((line) => /^(\w*Error|error)\b.*:/.test(line.trim()));
      if (errorLine) this.lastError = errorLine.trim();
    }
  }
}
