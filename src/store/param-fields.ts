import { JsonText } from "./records.ts";

/**
 * The fields of a task's params that `GET /tasks?param.<path>=<value>` can find. They are
 * written at create into a side table of (task, path, value) rows, indexed by (path, value,
 * task), so a filter on a field is one range of that index walked newest first, whatever the
 * field: one expression index per path would have to be declared up front.
 *
 * What is kept, so a create writes a bounded number of small rows:
 * - scalar fields (string, finite number, boolean) of objects, nested up to MAX_PARAM_DEPTH
 *   levels; array items and null are not kept;
 * - keys of 1-64 letters, digits, "_" or "-" (a key with another character, and what is under
 *   it, is not kept: a dot in a key would make its path ambiguous);
 * - strings of at most MAX_PARAM_VALUE_LENGTH characters, without a NUL or a lone surrogate;
 * - the first MAX_PARAM_FIELDS such fields, in the order of the params' keys.
 * A value is kept as text: a string as it is, a number as JSON writes it (7, 7.5, 1e+21),
 * a boolean as true or false. So `param.n=7` finds {"n": 7} and {"n": "7"} alike.
 */
export const MAX_PARAM_DEPTH = 4;
export const MAX_PARAM_FIELDS = 32;
export const MAX_PARAM_VALUE_LENGTH = 256;
export const PARAM_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A path as a filter names it: keys joined by dots, at most MAX_PARAM_DEPTH of them. */
export const PARAM_PATH_PATTERN = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/;

export interface ParamField {
  path: string;
  value: string;
}

/** The filter on one params field: tasks whose field at `path` has the text `value`. */
export type ParamFilter = ParamField;

/** What PostgreSQL's text cannot hold (a NUL, a lone surrogate): such a string is not kept, on either store. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string) => text.includes("\u0000") || LONE_SURROGATE.test(text);

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") {
    return value.length <= MAX_PARAM_VALUE_LENGTH && !unstorable(value) ? value : undefined;
  }
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : undefined;
  if (typeof value === "boolean") return value ? "true" : "false";
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The searchable fields of a task's params, as the side table stores them. */
export function searchableParamFields(given: unknown): ParamField[] {
  const fields: ParamField[] = [];
  const params = given instanceof JsonText ? JSON.parse(given.text) : given;
  const walk = (object: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const key of Object.keys(object)) {
      if (fields.length >= MAX_PARAM_FIELDS) return;
      if (!PARAM_KEY_PATTERN.test(key)) continue;
      const value = object[key];
      const path = prefix === "" ? key : `${prefix}.${key}`;
      if (isPlainObject(value)) {
        if (depth < MAX_PARAM_DEPTH) walk(value, path, depth + 1);
        continue;
      }
      const text = scalarText(value);
      if (text !== undefined) fields.push({ path, value: text });
    }
  };
  if (isPlainObject(params)) walk(params, "", 1);
  return fields;
}

/**
 * A store that encrypts params at rest keeps no searchable fields (their plaintext in a side
 * table would undo the encryption), so it refuses a param filter rather than answer "none".
 */
export class ParamFiltersUnavailableError extends Error {
  constructor() {
    super(
      "param filters need params stored unencrypted: this server encrypts params at rest (an encryption key is set), so it keeps no searchable copy of them",
    );
    this.name = "ParamFiltersUnavailableError";
  }
}
