import type { TaskContext } from "./context.ts";
import type { TaskStopped } from "./errors.ts";
import type { FileAccess } from "./file-access.ts";
import type { ChildOutcome } from "./flow.ts";
import type { LogLevel } from "./status.ts";

/**
 * What a running task talks to. The worker entrypoint supplies the real one; a task
 * author never builds it. Kept as an interface so `task/` depends on nothing else.
 */
export interface TaskRuntime {
  readonly taskId: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  /** The request context the task was created with (frozen). */
  readonly context: TaskContext;
  /** The task that spawned this one, if any. */
  readonly parentId: string | undefined;
  /** Where file tasks may read and write (the operator's file roots). */
  readonly fileAccess: FileAccess;
  /** Resolves at once when nothing is asked; pauses or throws `TaskStopped` otherwise. */
  checkpoint(state: unknown): Promise<void>;
  progress(done: number, total: number | undefined, message: string | undefined): void;
  log(level: LogLevel, message: string): void;
  /** The task asks the manager to control itself, as an operator would. */
  request(action: "pause" | "stop" | "restart", reason: string | undefined): void;
  /** Creates child tasks; resolves with their ids once they are committed, or rejects with `SpawnError`. */
  spawn(name: string, paramsList: readonly unknown[]): Promise<string[]>;
  /**
   * The outcomes of the children `ids` once all have ended; rejects with `TaskSuspended` (the run
   * ends, the task waits) while some have not, or with `WaitForError` for ids it may not wait for.
   */
  waitFor(ids: readonly string[]): Promise<ChildOutcome[]>;
}

/** A task's run as `post()` sees it. */
export type TaskOutcome<R> =
  | { status: "finished"; result: R }
  | { status: "failed"; error: unknown }
  | { status: "stopped"; reason: string; stop: TaskStopped }
  | { status: "released" }
  /** `waitFor` suspended the run: the task waits for its children and runs again after. */
  | { status: "suspended" };

/** Binds a runtime to a task instance; a symbol so it stays out of the author's way. */
export const bindRuntime: unique symbol = Symbol("kiln.bindRuntime");

/** Marks BaseTask subclasses so they are recognised even across two copies of the SDK. */
export const TASK_CLASS_BRAND = Symbol.for("kiln.BaseTask");
