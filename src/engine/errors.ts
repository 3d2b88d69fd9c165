import type { StorageFault } from "../store/index.ts";

/**
 * Errors the engine throws at its callers. Each carries a stable `code` and the HTTP status
 * the REST layer maps it to, so that mapping lives in one place.
 */
export class KilnError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "KilnError";
  }
}

export class TaskNotFoundError extends KilnError {
  constructor(id: string) {
    super("task_not_found", 404, `no task with id ${id}`);
  }
}

/** A prefix of an id that more than one task's id starts with. */
export class AmbiguousIdError extends KilnError {
  constructor(prefix: string, matches: number, atLeast: boolean) {
    const count = atLeast ? `more than ${matches - 1}` : String(matches);
    super("ambiguous_id", 409, `the id prefix ${prefix} matches ${count} tasks; give more of the id`, {
      prefix,
      matches,
      atLeast,
    });
  }
}

export class UnknownTaskNameError extends KilnError {
  constructor(name: string, known: readonly string[]) {
    super(
      "unknown_task_name",
      404,
      `no task is registered under the name "${name}"; known names: ${known.length ? known.join(", ") : "(none)"}`,
      { known },
    );
  }
}

export interface ParamIssue {
  path: string;
  message: string;
}

export class InvalidParamsError extends KilnError {
  constructor(
    name: string,
    issues: ParamIssue[],
    what: "params" | "result" = "params",
    /** Instead of "… do not match its schema: <first issue>". */
    message?: string,
  ) {
    const first = issues[0];
    super(
      "invalid_params",
      422,
      message ??
        `${what} of "${name}" do not match its schema${first ? `: ${first.path || "(root)"} ${first.message}` : ""}`,
      { issues },
    );
  }
}

/** An option of a create (runAt, priority, tags, idempotencyKey) out of its range; 422 like the API's own checks. */
export class InvalidOptionError extends KilnError {
  constructor(field: string, problem: string) {
    super("validation", 422, `invalid ${field}: ${field} ${problem}`, {
      in: "options",
      issues: [{ path: field, message: problem }],
    });
  }
}

/** A param filter on a store that keeps params encrypted, so it has no searchable copy of them. */
export class ParamFiltersUnavailable extends KilnError {
  constructor(message: string) {
    super("param_filters_unavailable", 422, message, {
      in: "query",
      issues: [{ path: "param", message: "needs params stored unencrypted" }],
    });
  }
}

export class IllegalTransitionError extends KilnError {
  constructor(message: string, details?: unknown) {
    super("illegal_transition", 409, message, details);
  }
}

/** An idempotency key already used for a different request (another name or other params). */
export class IdempotencyConflictError extends KilnError {
  constructor(key: string, existing: { id: string; taskName: string }, difference: string) {
    super(
      "idempotency_conflict",
      409,
      `the idempotency key "${key}" was already used for task ${existing.id} with ${difference}; ` +
        "send the same name and params to get that task back, or use a new key",
      { taskId: existing.id, taskName: existing.taskName },
    );
  }
}

export class NotAcceptingError extends KilnError {
  constructor(why: string) {
    super("not_accepting", 503, why);
  }
}

/**
 * The database cannot be written (disk full, read-only file, I/O error): nothing was changed,
 * reads still work and the same request can be retried once the fault clears. A damaged,
 * deleted or replaced file does not clear by waiting: its message says what to do instead.
 */
export class StorageUnavailableError extends KilnError {
  constructor(
    readonly fault: StorageFault,
    /** The driver's error behind it; undefined when kiln found the fault itself. */
    readonly original: unknown,
  ) {
    const code = fault.code ? ` (${fault.code})` : "";
    super(
      "storage_unavailable",
      503,
      fault.remedy
        ? `the database cannot be used: ${fault.description}${code}; nothing was changed: ${fault.remedy}`
        : `the database cannot be written: ${fault.description}${code}; nothing was changed, retry later`,
      { cause: fault.cause, ...(fault.code ? { sqliteCode: fault.code } : {}) },
    );
  }
}

/** A control request for a task whose run has ended, but whose end is not written yet. */
export class RunEndNotWrittenError extends KilnError {
  constructor(id: string) {
    super(
      "storage_unavailable",
      503,
      `task ${id} has ended its run, but the database could not record that yet; retry later`,
    );
  }
}
