import { TaskValueError } from "../../task/index.ts";
import { checkJsonValue } from "../../task/json-value.ts";
import { InvalidOptionError, InvalidParamsError } from "../errors.ts";
import type { CreateOptions } from "../manager-options.ts";

/**
 * The latest time kiln takes or shows: the last millisecond of year 9999. Every date it stores
 * then has an ISO 8601 form with a four-digit year, which is what the API answers with.
 */
export const LATEST_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Priorities are 32-bit integers, as the API says. */
export const MIN_PRIORITY = -2_147_483_648;
export const MAX_PRIORITY = 2_147_483_647;
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 64;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** A create's options as they are stored. */
export interface CheckedCreateOptions {
  priority: number;
  runAt: number | null;
  idempotencyKey: string | null;
  tags: string[] | null;
}

function runAtOf(runAt: unknown): number | null {
  if (runAt === undefined || runAt === null) return null;
  const ms = runAt instanceof Date ? runAt.getTime() : runAt;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > LATEST_DATE_MS) {
    throw new InvalidOptionError(
      "runAt",
      `must be a date from 1970 to the end of year 9999 (epoch milliseconds 0 to ${LATEST_DATE_MS}), got ${String(runAt)}`,
    );
  }
  return ms;
}

function priorityOf(priority: unknown): number {
  if (priority === undefined || priority === null) return 0;
  if (
    !Number.isInteger(priority) ||
    (priority as number) < MIN_PRIORITY ||
    (priority as number) > MAX_PRIORITY
  ) {
    throw new InvalidOptionError("priority", `must be a 32-bit integer, got ${String(priority)}`);
  }
  return priority as number;
}

function tagsOf(tags: unknown): string[] | null {
  if (tags === undefined || tags === null) return null;
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw new InvalidOptionError("tags", `must be an array of at most ${MAX_TAGS} strings`);
  }
  for (const tag of tags) {
    if (typeof tag !== "string" || tag.length < 1 || tag.length > MAX_TAG_LENGTH) {
      throw new InvalidOptionError("tags", `each tag must be a string of 1 to ${MAX_TAG_LENGTH} characters`);
    }
  }
  return tags.length > 0 ? [...tags] : null;
}

function idempotencyKeyOf(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== "string" || key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidOptionError(
      "idempotencyKey",
      `must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    );
  }
  return key;
}

/**
 * Checks what `create()` and `submit()` are given besides params, with the API's own rules, so
 * that a library caller cannot store what the API would refuse (a runAt past year 9999, a
 * priority of 1.5, a tag that is not text) and what no page could then show.
 */
export function checkCreateOptions(options: CreateOptions): CheckedCreateOptions {
  return {
    priority: priorityOf(options.priority),
    runAt: runAtOf(options.runAt),
    idempotencyKey: idempotencyKeyOf(options.idempotencyKey),
    tags: tagsOf(options.tags),
  };
}

/**
 * Params must be JSON: a library caller may pass anything (the API's come parsed from a body).
 * A BigInt, a cycle or a function is a 422 naming it, not a TypeError from deep in the store.
 */
export function checkParams(name: string, params: unknown): unknown {
  if (params === undefined) return params;
  try {
    checkJsonValue(params, { what: "params", maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    if (!(error instanceof TaskValueError)) throw error;
    throw new InvalidParamsError(name, [{ path: "", message: error.message }], "params", error.message);
  }
  return params;
}
