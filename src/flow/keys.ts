/**
 * The key a task's rate limit or per-key concurrency counts by, from the class's key function.
 *
 * Rules:
 * - The key function runs once, when the task is created, on the params as validated (schema
 *   defaults filled in). The key is stored with the task: every node and every restart uses the
 *   same one, and a changed or nondeterministic key function cannot move a task to another key.
 * - It must return a string of 1 to MAX_KEY_LENGTH (200) characters. A number is not turned into
 *   a string for it (`42` and `"42"` would then be one key by accident of formatting): the
 *   message says to return `String(...)`.
 * - A throw, a promise, or any other value is a refusal of the create, reported like invalid
 *   params (`POST /tasks` answers 422; `this.spawn` rejects with a SpawnError; a schedule records
 *   the fire as refused), with a message naming the declaration and what the function did. A
 *   task that already exists when its class gains a key function has no stored key: on SQLite
 *   the engine computes it when it queues the task (a refusal then counts it under
 *   NAME_WIDE_KEY); on PostgreSQL a node's first claims of the name store the keys computed now.
 * - Without a key function the limit holds for the whole task name: NAME_WIDE_KEY (""), which no
 *   key function can return.
 */

export const MAX_KEY_LENGTH = 200;
/** The key of a limit declared without a key function. */
export const NAME_WIDE_KEY = "";

export type KeyOutcome = { ok: true; key: string } | { ok: false; message: string };

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `a ${typeof value} (${String(value)})`;
  }
  if (typeof value === "object" && typeof (value as { then?: unknown }).then === "function") {
    return "a promise (key functions must be synchronous)";
  }
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/**
 * Runs a key function on a task's params. `what` names the declaration for messages
 * (`static rateLimit.key of "import"`). Never throws.
 */
export function computeKey(
  keyFunction: (params: unknown) => unknown,
  params: unknown,
  what: string,
): KeyOutcome {
  let value: unknown;
  try {
    value = keyFunction(params);
  } catch (thrown) {
    let text: string;
    try {
      text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    } catch {
      text = "a value that cannot be shown";
    }
    return { ok: false, message: `${what} threw ${text.slice(0, 500)}` };
  }
  if (typeof value !== "string") {
    const hint = typeof value === "number" ? "; return String(...) of it" : "";
    return { ok: false, message: `${what} must return a string, returned ${describeValue(value)}${hint}` };
  }
  if (value.length < 1 || value.length > MAX_KEY_LENGTH) {
    return {
      ok: false,
      message: `${what} must return 1 to ${MAX_KEY_LENGTH} characters, returned ${value.length}`,
    };
  }
  return { ok: true, key: value };
}
