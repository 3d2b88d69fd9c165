import { TaskValueError } from "./errors.ts";

/** How deep the arrays and objects of a stored value (or a request body) may nest. */
export const MAX_JSON_DEPTH = 128;

/**
 * The caps on what one run may store, in bytes of UTF-8: its result and each checkpoint state
 * as JSON text, each log line as text.
 */
export interface ValueLimits {
  maxResultBytes: number;
  maxCheckpointBytes: number;
  maxLogLineBytes: number;
}

/**
 * A result or a state as large as a request body may be (so what a client can send in, kiln can
 * hand back in one answer), and a log line as long as kiln always kept.
 */
export const DEFAULT_VALUE_LIMITS: ValueLimits = {
  maxResultBytes: 1_048_576,
  maxCheckpointBytes: 1_048_576,
  maxLogLineBytes: 16_384,
};

/** The `kiln serve` flag behind each limit, named in the errors it causes. */
export const LIMIT_FLAGS: Record<keyof ValueLimits, string> = {
  maxResultBytes: "--max-result-bytes",
  maxCheckpointBytes: "--max-checkpoint-bytes",
  maxLogLineBytes: "--max-log-line-bytes",
};

/** 1048576 → "1,048,576". */
export const formatCount = (n: number): string => n.toLocaleString("en-US");

/** True when `value` is one of `limits`, an integer byte count kiln can work with. */
export function isByteLimit(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/**
 * True when JSON text nests arrays and objects deeper than `limit`. One pass without recursion,
 * skipping string contents, so it cannot itself overflow the stack it protects.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      depth++;
      if (depth > limit) return true;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** Bytes of `text` in UTF-8. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Objects JSON.stringify turns into `{}` or loses the contents of, with what to store instead. */
const LOSSY: ReadonlyArray<readonly [new (...args: never[]) => object, string, string]> = [
  [Map, "a Map", "convert it with Object.fromEntries(map)"],
  [Set, "a Set", "convert it with [...set]"],
  [WeakMap, "a WeakMap", "store its contents as an object"],
  [WeakSet, "a WeakSet", "store its contents as an array"],
  [WeakRef, "a WeakRef", "store what it refers to"],
  [Promise, "a Promise", "await it first"],
  [RegExp, "a RegExp", "store its source as a string"],
  [Error, "an Error", "store its message as a string"],
  [ArrayBuffer, "an ArrayBuffer", "store its bytes as an array or a base64 string"],
  [SharedArrayBuffer, "a SharedArrayBuffer", "store its bytes as an array or a base64 string"],
];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** Characters of a path shown in an error. */
const MAX_PATH_LENGTH = 120;

/** A value the walk refuses; the message says what and where. */
class Refusal {
  constructor(readonly message: string) {}
}

/** The walk stopped because the text would be longer than the limit. */
class OverLimit {
  constructor(readonly atLeast: number) {}
}

/**
 * Checks a value the way JSON.stringify will see it, refusing what JSON cannot hold or would
 * silently change, and counting a lower bound of its text's bytes as it goes: it stops as soon
 * as that bound passes the limit, so a huge value (or a small graph that expands exponentially)
 * is refused without being serialised.
 */
class Walk {
  readonly #keys: (string | number)[] = [];
  /** The objects being visited, each with its depth: a value met again among them is a cycle. */
  readonly #open = new Map<object, number>();
  bytes = 0;

  constructor(private readonly maxBytes: number) {}

  path(length = this.#keys.length): string {
    let path = "$";
    for (const key of this.#keys.slice(0, length)) {
      if (typeof key === "number") path += `[${key}]`;
      else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
    // A path 128 levels deep, or through long keys, is cut in the middle to stay readable.
    return path.length > MAX_PATH_LENGTH
      ? `${path.slice(0, MAX_PATH_LENGTH / 2)}…${path.slice(-MAX_PATH_LENGTH / 2)}`
      : path;
  }

  #count(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.maxBytes) throw new OverLimit(this.bytes);
  }

  /** The value at the current path; `key` is what JSON.stringify passes to its toJSON(). */
  visit(value: unknown, key: string): void {
    let current = value;
    if ((typeof current === "object" && current !== null) || typeof current === "bigint") {
      // As JSON.stringify does: an object (or a BigInt) may say how it is serialised.
      let toJSON: unknown;
      try {
        toJSON = (current as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === "function") current = toJSON.call(current, key);
      } catch (thrown) {
        throw new Refusal(`${this.path()}.toJSON() threw: ${describeThrown(thrown)}`);
      }
    }
    switch (typeof current) {
      case "string":
        this.#count(current.length + 2);
        return;
      case "number":
        if (!Number.isFinite(current)) {
          throw new Refusal(
            `${current} at ${this.path()} (JSON has no NaN or Infinity; JSON.stringify would store null)`,
          );
        }
        this.#count(1);
        return;
      case "boolean":
        this.#count(4);
        return;
      case "bigint":
        throw new Refusal(`a BigInt at ${this.path()} (JSON has no BigInt: store it as a string)`);
      case "symbol":
        throw new Refusal(`a symbol at ${this.path()} (JSON has no symbols)`);
      case "function":
        throw new Refusal(`a function at ${this.path()} (JSON has no functions)`);
      case "undefined":
        throw new Refusal(
          this.#keys.length === 0
            ? "undefined (JSON has no undefined; use null)"
            : `undefined at ${this.path()} (JSON has no undefined; JSON.stringify would store null)`,
        );
      default:
        if (current === null) this.#count(4);
        else this.#object(current as object);
    }
  }

  #object(value: object): void {
    const opened = this.#open.get(value);
    if (opened !== undefined) {
      throw new Refusal(
        `a cycle at ${this.path()}: it refers back to ${this.path(opened)} (JSON cannot hold a reference)`,
      );
    }
    if (this.#keys.length >= MAX_JSON_DEPTH) {
      throw new Refusal(`it nests deeper than ${MAX_JSON_DEPTH} levels at ${this.path()}`);
    }
    this.#refuseLossy(value);
    this.#open.set(value, this.#keys.length);
    if (Array.isArray(value)) {
      this.#count(2 + Math.max(0, value.length - 1));
      for (let index = 0; index < value.length; index++) {
        this.#keys.push(index);
        this.visit(this.#read(value, index), String(index));
        this.#keys.pop();
      }
    } else {
      this.#count(2);
      let kept = 0;
      for (const key of Object.keys(value)) {
        this.#keys.push(key);
        const item = this.#read(value, key);
        // JSON leaves out a property that is undefined: reading it back gives undefined again.
        if (item !== undefined) {
          // "key": and a comma before every entry but the first.
          this.#count(key.length + 3 + (kept++ > 0 ? 1 : 0));
          this.visit(item, key);
        }
        this.#keys.pop();
      }
    }
    this.#open.delete(value);
  }

  #read(value: object, key: string | number): unknown {
    try {
      return (value as Record<string | number, unknown>)[key];
    } catch (thrown) {
      throw new Refusal(`reading ${this.path()} threw: ${describeThrown(thrown)}`);
    }
  }

  #refuseLossy(value: object): void {
    for (const [type, name, instead] of LOSSY) {
      if (value instanceof type) {
        throw new Refusal(`${name} at ${this.path()} (JSON would store it as {}: ${instead})`);
      }
    }
    if (ArrayBuffer.isView(value)) {
      throw new Refusal(
        `a ${value.constructor.name} at ${this.path()} (JSON would store it as an object of numbered keys: convert it with Array.from)`,
      );
    }
    const tag = Object.prototype.toString.call(value);
    if (tag === "[object BigInt]") {
      throw new Refusal(`a BigInt at ${this.path()} (JSON has no BigInt: store it as a string)`);
    }
    if (tag === "[object Symbol]") throw new Refusal(`a symbol at ${this.path()} (JSON has no symbols)`);
  }
}

function describeThrown(thrown: unknown): string {
  try {
    return thrown instanceof Error ? thrown.message : String(thrown);
  } catch {
    return "a value that cannot be described";
  }
}

/** `what` and its limit, as errors name them. */
export interface ValueCap {
  /** "result", "checkpoint state", "params". */
  what: string;
  maxBytes: number;
  /** The setting that raises the limit, named in the error. */
  flag?: string;
}

/**
 * Throws a `TaskValueError` when `value` is not JSON or is over `cap.maxBytes`, as `toJsonText`
 * would, without making the text.
 */
export function checkJsonValue(value: unknown, cap: ValueCap): void {
  const walk = new Walk(cap.maxBytes);
  try {
    walk.visit(value, "");
  } catch (thrown) {
    if (thrown instanceof Refusal) throw new TaskValueError(`${cap.what} is not JSON: ${thrown.message}`);
    if (thrown instanceof OverLimit) throw tooLarge(cap, thrown.atLeast, true);
    // A Proxy trap or a getter deep inside threw something odd: still the value's fault.
    throw new TaskValueError(
      `${cap.what} is not JSON: reading ${walk.path()} threw: ${describeThrown(thrown)}`,
    );
  }
}

/**
 * The JSON text of a value a task stores (its result, a checkpoint state), checked where it is
 * made: a value JSON cannot hold or would silently change (a BigInt, a cycle, a function, a
 * symbol, NaN or Infinity, undefined in an array or at the top, a Map, a Set, a typed array…),
 * one nested deeper than `MAX_JSON_DEPTH`, or one whose text is over `cap.maxBytes` bytes throws
 * a `TaskValueError` that names the problem and where it is (`$.items[3].size`).
 */
export function toJsonText(value: unknown, cap: ValueCap): string {
  checkJsonValue(value, cap);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (thrown) {
    // Getters or toJSON() that answer differently the second time.
    throw new TaskValueError(`${cap.what} is not JSON: serialising it threw: ${describeThrown(thrown)}`);
  }
  if (text === undefined) throw new TaskValueError(`${cap.what} is not JSON: it serialises to nothing`);
  // UTF-8 takes at most three bytes per UTF-16 unit: short texts need no count.
  if (text.length * 3 > cap.maxBytes) {
    const bytes = utf8Bytes(text);
    if (bytes > cap.maxBytes) throw tooLarge(cap, bytes, false);
  }
  return text;
}

function tooLarge(cap: ValueCap, bytes: number, atLeast: boolean): TaskValueError {
  const flag = cap.flag ? ` (${cap.flag})` : "";
  return new TaskValueError(
    `${cap.what} is ${atLeast ? "at least " : ""}${formatCount(bytes)} bytes of JSON, over the ${formatCount(cap.maxBytes)}-byte limit${flag}`,
    true,
  );
}

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8, a marker saying how much was cut included
 * (so cutting it again changes nothing), never inside a character: a log line over the limit
 * is kept, shortened.
 */
export function clipToBytes(text: string, maxBytes: number, flag: string): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = utf8Bytes(text);
  if (bytes <= maxBytes) return text;
  const marker = `… [cut: the line is ${formatCount(bytes)} bytes, over the ${formatCount(maxBytes)}-byte limit (${flag})]`;
  const room = Math.max(0, maxBytes - utf8Bytes(marker));
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(room));
  return `${text.slice(0, read)}${marker}`;
}
