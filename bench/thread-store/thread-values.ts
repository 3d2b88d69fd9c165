import { JsonText, UnreadableValue } from "../../src/store/records.ts";
import { DatabaseCorruptError } from "../../src/store/storage-fault.ts";
import { UndecryptableValueError } from "../../src/store/value-cipher.ts";

/**
 * What crosses between the main thread and the SQLite writer thread, as JSON text: a string is
 * what `postMessage` copies fastest (a structured clone of a turn's calls cost more main-thread
 * time than the statements it moved off). JSON has no Map, no undefined and no classes, so the
 * few the store's calls take or give are sent as tagged objects and made again on the other side:
 * the two value classes the store gives meaning to (`JsonText`, `UnreadableValue`), a telemetry
 * batch's Maps, an argument or an answer that is undefined; errors go as their name, message
 * and code.
 *
 * Those sit at most three levels down in what a call takes or gives (a telemetry batch's Map of
 * checkpoints, a record's fields), so the walk stops there and never copies the rest of a task's
 * params. A plain object that happens to have the tag's key is wrapped, so no value a client sent
 * can pass for a tagged one.
 */
const TAG = "~kiln";
const DEPTH = 3;

type Tagged =
  | { [TAG]: "undefined" }
  | { [TAG]: "map"; entries: [unknown, unknown][] }
  | { [TAG]: "json"; text: string }
  | { [TAG]: "unreadable"; unreadable: string }
  | { [TAG]: "plain"; object: Record<string, unknown> };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `value` ready for `postMessage`. */
export function encodeValue(value: unknown, depth = 0): unknown {
  if (value === undefined) return { [TAG]: "undefined" } satisfies Tagged;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof JsonText) return { [TAG]: "json", text: value.text } satisfies Tagged;
  if (value instanceof UnreadableValue)
    return { [TAG]: "unreadable", unreadable: value.unreadable } satisfies Tagged;
  if (depth >= DEPTH) {
    return isPlainObject(value) && Object.hasOwn(value, TAG)
      ? ({ [TAG]: "plain", object: value } satisfies Tagged)
      : value;
  }
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, depth + 1));
  if (value instanceof Map) {
    const entries: [unknown, unknown][] = [];
    for (const [key, item] of value) entries.push([key, encodeValue(item, depth + 1)]);
    return { [TAG]: "map", entries } satisfies Tagged;
  }
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const item = value[key];
    // JSON drops it too; an absent field is what an undefined one means to the store.
    if (item !== undefined) copy[key] = encodeValue(item, depth + 1);
  }
  return Object.hasOwn(value, TAG) ? ({ [TAG]: "plain", object: copy } satisfies Tagged) : copy;
}

/** What `encodeValue` sent, as it was. */
export function decodeValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (isPlainObject(value) && Object.hasOwn(value, TAG)) {
    const tagged = value as Tagged;
    switch (tagged[TAG]) {
      case "undefined":
        return undefined;
      case "map": {
        const map = new Map<unknown, unknown>();
        for (const [key, item] of tagged.entries) map.set(key, decodeValue(item, depth + 1));
        return map;
      }
      case "json":
        // The text alone crosses: the value is the text parsed (where it was made, too).
        return new JsonText(tagged.text, JSON.parse(tagged.text));
      case "unreadable":
        return new UnreadableValue(tagged.unreadable);
      case "plain":
        return depth >= DEPTH ? tagged.object : decodeFields(tagged.object, depth);
    }
  }
  if (depth >= DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, depth + 1));
  return isPlainObject(value) ? decodeFields(value, depth) : value;
}

function decodeFields(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in object) copy[key] = decodeValue(object[key], depth + 1);
  return copy;
}

/** An error as it crosses a thread: enough to make it again, as the store's callers read it. */
export interface SentError {
  name: string;
  message: string;
  code?: unknown;
  errno?: unknown;
  detail?: string;
  stack?: string;
}

export function encodeError(error: unknown): SentError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const fields = error as Error & { code?: unknown; errno?: unknown; detail?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(fields.code !== undefined ? { code: fields.code } : {}),
    ...(fields.errno !== undefined ? { errno: fields.errno } : {}),
    ...(typeof fields.detail === "string" ? { detail: fields.detail } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

/**
 * The error again: kiln's own classes as themselves (callers test them with `instanceof`),
 * SQLite's as an Error with its name and code, which is all `storageFaultOf` and the
 * constraint checks read.
 */
export function decodeError(sent: SentError): Error {
  let error: Error;
  if (sent.name === "DatabaseCorruptError" && typeof sent.detail === "string") {
    error = new DatabaseCorruptError(
      sent.detail,
      sent.code === "SQLITE_NOTADB" ? "SQLITE_NOTADB" : "SQLITE_CORRUPT",
    );
  } else if (sent.name === "UndecryptableValueError") {
    error = new UndecryptableValueError(sent.message);
  } else {
    error = new Error(sent.message);
    error.name = sent.name;
    const fields = error as Error & { code?: unknown; errno?: unknown };
    if (sent.code !== undefined) fields.code = sent.code;
    if (sent.errno !== undefined) fields.errno = sent.errno;
  }
  if (sent.stack) error.stack = sent.stack;
  return error;
}
