import type {
  ChildOutcome,
  FileAccess,
  LogLevel,
  TaskContext,
  TaskError,
  ValueLimits,
} from "../task/index.ts";

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
      /** The request context the task was created with: `this.context`. */
      context: TaskContext;
      /** The task that spawned this one: `this.parentId`. */
      parentId: string | undefined;
      /** What the run may store: its result, states and log lines are checked against these. */
      limits: ValueLimits;
    }
  /** The children of the task's spawn call `callId` are committed: their ids, in order. */
  | { type: "spawned"; taskId: string; callId: number; ids: string[] }
  /** The task's spawn call `callId` was refused; nothing was created. */
  | {
      type: "spawn-refused";
      taskId: string;
      callId: number;
      code: string;
      message: string;
      retryable: boolean;
    }
  /** The children of the task's waitFor call `callId` have all ended: their outcomes, in order. */
  | { type: "wait-over"; taskId: string; callId: number; outcomes: ChildOutcome[] }
  /** The task's waitFor call `callId` names ids it may not wait for. */
  | { type: "wait-refused"; taskId: string; callId: number; message: string; retryable: boolean }
  /** Some children of the waitFor call `callId` have not ended: the run unwinds and reports `suspended`. */
  | { type: "wait-suspend"; taskId: string; callId: number }
  /**
   * The control word of a task process: there is no memory shared with a child process, so
   * the child keeps its own word and the parent sends every change (see process-host.ts).
   */
  | { type: "control"; value: ControlValue }
  /** Wakes a task paused at a checkpoint; the control word is already NONE. */
  | { type: "resume" }
  /** Aborts `this.signal` and wakes a paused task so its checkpoint throws `TaskStopped`. */
  | { type: "stop"; reason: string }
  /** A paused task must unwind and give the worker back; it stays PAUSED. */
  | { type: "release" };

/**
 * Worker → main thread. Every message after `ready` names the task it is about. Results and
 * states travel as JSON text, made and checked in the worker (see task/json-value.ts): the main
 * thread stores the text as it is and never has to serialise what a task made. A task can post
 * on its worker's port itself, so the main thread checks every message again before using it
 * (engine/worker-message.ts).
 */
export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; taskId: string; done: number; total: number | undefined; message: string | undefined }
  | { type: "log"; taskId: string; level: LogLevel; message: string; at: number }
  | { type: "checkpoint"; taskId: string; stateJson: string }
  /** `stateJson` is undefined when the run has no state to save. */
  | { type: "paused"; taskId: string; stateJson: string | undefined }
  | { type: "request"; taskId: string; action: "pause" | "stop" | "restart"; reason: string | undefined }
  /**
   * The task asks for child tasks (`this.spawn`); the engine answers `spawned` or `spawn-refused`
   * with the same `callId`. The params travel as JSON text, as they would in `POST /tasks`.
   */
  | { type: "spawn"; taskId: string; callId: number; name: string; paramsJson: string }
  /**
   * The task waits for its children (`this.waitFor`); the engine answers `wait-over`,
   * `wait-refused` or `wait-suspend` with the same `callId`.
   */
  | { type: "wait-for"; taskId: string; callId: number; ids: string[] }
  /** The run ended suspended by `wait-suspend`; `stateJson` is its last checkpoint state, if any. */
  | { type: "suspended"; taskId: string; stateJson: string | undefined }
  /** `resultJson` is undefined when `run()` returned nothing. */
  | { type: "finished"; taskId: string; resultJson: string | undefined }
  | { type: "failed"; taskId: string; error: TaskError }
  | { type: "stopped"; taskId: string; reason: string }
  | { type: "released"; taskId: string }
  /**
   * The run is over its memory cap: `usedBytes` is its JavaScript heap (a worker's own report)
   * or its resident size (a task process, measured by the parent).
   */
  | { type: "memory"; taskId: string; usedBytes: number; limitBytes: number; measured: "heap" | "rss" };

/** Most children one spawn call may create. */
export const MAX_SPAWN_CHILDREN = 10_000;

/** Longest progress message or request reason a worker forwards; the rest is cut with a marker. */
export const MAX_TEXT_LENGTH = 16_384;

export function clipText(text: string): string {
  return text.length > MAX_TEXT_LENGTH
    ? `${text.slice(0, MAX_TEXT_LENGTH)}… (${text.length - MAX_TEXT_LENGTH} more characters)`
    : text;
}
