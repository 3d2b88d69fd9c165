import type { FileAccess, LogLevel, TaskError } from "../task/index.ts";

/**
 * The control word: one Int32 per worker in a SharedArrayBuffer, written by the main
 * thread and read by `checkpoint()` without any message passing.
 */
export const Control = {
  NONE: 0,
  PAUSE: 1,
  STOP: 2,
} as const;
export type ControlValue = (typeof Control)[keyof typeof Control];

/** Set by the engine to its own pid in the environment of a task process it spawns. */
export const PARENT_PID_ENV = "KILN_TASK_PARENT_PID";

/** Main thread → worker. */
export type ToWorker =
  /**
   * The first message to every worker and task process: its control word (a task process keeps
   * its own, see below) and the settings every run on it needs.
   */
  | { type: "init"; control: SharedArrayBuffer | undefined; fileAccess: FileAccess }
  | {
      type: "run";
      taskId: string;
      name: string;
      /** Module to import for the class (a file URL or path); absent for built-in tasks. */
      module: string | undefined;
      params: unknown;
      state: unknown;
      attempt: number;
      checkpointIntervalMs: number;
      /** The run's memory cap; the runtime reports a heap above it (see heap-guard.ts). */
      memoryLimitBytes: number | undefined;
    }
  /**
   * The control word of a task process: there is no memory shared with a child process, so
   * the child keeps its own word and the parent sends every change (see process-slot.ts).
   */
  | { type: "control"; value: ControlValue }
  /** Wakes a task paused at a checkpoint; the control word is already NONE. */
  | { type: "resume" }
  /** Aborts `this.signal` and wakes a paused task so its checkpoint throws `TaskStopped`. */
  | { type: "stop"; reason: string }
  /** A paused task must unwind and give the worker back; it stays PAUSED. */
  | { type: "release" };

/** Worker → main thread. Every message after `ready` names the task it is about. */
export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; taskId: string; done: number; total: number | undefined; message: string | undefined }
  | { type: "log"; taskId: string; level: LogLevel; message: string; at: number }
  | { type: "checkpoint"; taskId: string; state: unknown }
  | { type: "paused"; taskId: string; state: unknown }
  | { type: "request"; taskId: string; action: "pause" | "stop" | "restart"; reason: string | undefined }
  | { type: "finished"; taskId: string; result: unknown }
  | { type: "failed"; taskId: string; error: TaskError }
  | { type: "stopped"; taskId: string; reason: string }
  | { type: "released"; taskId: string }
  /**
   * The run is over its memory cap: `usedBytes` is its JavaScript heap (a worker's own report)
   * or its resident size (a task process, measured by the parent).
   */
  | { type: "memory"; taskId: string; usedBytes: number; limitBytes: number; measured: "heap" | "rss" };

/** Longest log line or progress message a worker forwards; the rest is cut with a marker. */
export const MAX_TEXT_LENGTH = 16_384;

export function clipText(text: string): string {
  return text.length > MAX_TEXT_LENGTH
    ? `${text.slice(0, MAX_TEXT_LENGTH)}… (${text.length - MAX_TEXT_LENGTH} more characters)`
    : text;
}
