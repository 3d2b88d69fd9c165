/**
 * Thrown by `checkpoint()` when the task is asked to stop. Let it propagate: `finally`
 * blocks and `post()` still run, and the task ends STOPPED.
 */
export class TaskStopped extends Error {
  override readonly name = "TaskStopped";
  constructor(readonly reason = "stop requested") {
    super(reason);
  }
}

/**
 * Thrown by `checkpoint()` when a paused task must give its worker back (the manager
 * keeps only a bounded number of paused tasks parked on live workers). The task stays
 * PAUSED and resumes later from the state of that checkpoint. Let it propagate.
 */
export class TaskReleased extends Error {
  override readonly name = "TaskReleased";
  constructor() {
    super("paused task released its worker");
  }
}

/**
 * Thrown by `waitFor()` when some of the children have not ended: the run gives its worker back
 * and the task waits PENDING, saved at its last checkpoint, until they have; then `run()` starts
 * again from that state. Let it propagate: `post()` still runs (with the outcome "suspended").
 */
export class TaskSuspended extends Error {
  override readonly name = "TaskSuspended";
  constructor() {
    super("the task waits for its children; its run resumes once they have ended");
  }
}

/**
 * `this.waitFor()` was refused: the ids are not a list of this task's children (an unknown id,
 * a task another task spawned, more than 10,000 ids), which retrying would refuse again, or the
 * children could not be read (`retryable`: the database was unavailable).
 */
export class WaitForError extends Error {
  override readonly name = "WaitForError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Throw this from a task to fail it at once, without the retries its policy would allow. */
export class UnrecoverableError extends Error {
  override readonly name: string = "UnrecoverableError";
}

/**
 * `this.spawn()` was refused: `code` says why, as the REST API would (`unknown_task_name`,
 * `invalid_params`, `not_accepting` while kiln shuts down, `storage_unavailable`). No child was
 * created. A refusal that retrying cannot cure (a wrong name or params) fails the task without retries.
 */
export class SpawnError extends Error {
  override readonly name = "SpawnError";
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * A value kiln cannot take from a task: a result or checkpoint state that JSON cannot hold or
 * that is over its size limit, or a progress or log call with an argument out of range. The
 * message names the problem and where it is. Retrying would send the same value again, so a
 * task that fails with it is not retried.
 */
export class TaskValueError extends TypeError {
  override readonly name = "TaskValueError";
  constructor(
    message: string,
    /** The value is well-formed but over its size limit. */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** A task's failure as it is stored and reported: plain data, safe to clone and serialise. */
export interface TaskError {
  name: string;
  message: string;
  stack?: string;
  /** False when retrying cannot help (an `UnrecoverableError`, a params or result mismatch). */
  retryable: boolean;
}

const MAX_MESSAGE_LENGTH = 4_000;
const MAX_STACK_LENGTH = 8_000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Circular or otherwise unserialisable: fall through to String().
  }
  return String(value);
}

/**
 * Normalises anything a task may throw (an Error, a string, `undefined`, an object with
 * a throwing `toString`) into a `TaskError`, so a misbehaving task cannot break reporting.
 */
export function coerceError(thrown: unknown): TaskError {
  try {
    if (thrown instanceof Error) {
      return {
        name: clip(String(thrown.name || "Error"), 200),
        message: clip(String(thrown.message), MAX_MESSAGE_LENGTH),
        ...(typeof thrown.stack === "string" ? { stack: clip(thrown.stack, MAX_STACK_LENGTH) } : {}),
        retryable: !(
          thrown instanceof UnrecoverableError ||
          thrown instanceof TaskValueError ||
          ((thrown instanceof SpawnError || thrown instanceof WaitForError) && !thrown.retryable)
        ),
      };
    }
    return {
      name: "NonErrorThrown",
      message: clip(`task threw a non-Error value: ${describe(thrown)}`, MAX_MESSAGE_LENGTH),
      retryable: true,
    };
  } catch {
    return {
      name: "NonErrorThrown",
      message: "task threw a value that cannot be described",
      retryable: true,
    };
  }
}
