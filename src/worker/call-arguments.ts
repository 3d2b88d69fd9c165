import { LOG_LEVELS, type LogLevel, TaskValueError } from "../task/index.ts";
import { clipToBytes, LIMIT_FLAGS } from "../task/json-value.ts";
import { clipText } from "./protocol.ts";

/** How an argument is shown in an error: `NaN`, `-1`, `"12"`, `10n`, `undefined`. */
function shown(value: unknown): string {
  try {
    if (typeof value === "string")
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "symbol" || typeof value === "function") return `a ${typeof value}`;
    if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
    return String(value);
  } catch {
    return "a value that cannot be shown";
  }
}

/** Text for a message argument; a value whose `toString` throws is refused. */
function asText(value: unknown, call: string): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch (thrown) {
    const why = thrown instanceof Error ? thrown.message : "it threw";
    throw new TaskValueError(`${call}: the message cannot be turned into text (${why})`);
  }
}

/**
 * Throws a `TaskValueError` unless `done` is a finite number ≥ 0 and `total`, if given, a finite
 * number ≥ `done`: what the API and the dashboard show as a percentage is then always a number.
 * Called on every `progress()`, so it allocates nothing when the arguments are fine.
 */
export function checkProgress(done: unknown, total: unknown): asserts done is number {
  if (typeof done !== "number" || !(done >= 0) || done === Number.POSITIVE_INFINITY) {
    throw new TaskValueError(`progress(done): done must be a finite number ≥ 0, got ${shown(done)}`);
  }
  if (total === undefined || total === null) return;
  if (typeof total !== "number" || !(total >= 0) || total === Number.POSITIVE_INFINITY) {
    throw new TaskValueError(`progress(done, total): total must be a finite number ≥ 0, got ${shown(total)}`);
  }
  if (total < done) {
    throw new TaskValueError(
      `progress(done, total): done (${done}) is more than total (${total}); pass a total at least as large as done, or none`,
    );
  }
}

/** A progress message as it is sent: text, cut to its length limit. */
export function progressMessage(message: unknown): string | undefined {
  return message === undefined || message === null ? undefined : clipText(asText(message, "progress"));
}

/** The arguments of `log(level, message)` as they are stored, the message cut to `maxBytes`. */
export function logArguments(
  level: unknown,
  message: unknown,
  maxBytes: number,
): { level: LogLevel; message: string } {
  if (!(LOG_LEVELS as readonly unknown[]).includes(level)) {
    throw new TaskValueError(
      `log(level): level must be one of ${LOG_LEVELS.join(", ")}, got ${shown(level)}`,
    );
  }
  return {
    level: level as LogLevel,
    message: clipToBytes(asText(message, "log"), maxBytes, LIMIT_FLAGS.maxLogLineBytes),
  };
}

/** A reason for `pause()`, `stop()` or `restart()`, as text. */
export function reasonArgument(reason: unknown, call: string): string | undefined {
  return reason === undefined || reason === null ? undefined : clipText(asText(reason, call));
}
