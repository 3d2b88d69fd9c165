// The rules for what a task may store, on their own: what toJsonText refuses and how it says so,
// how it counts bytes, and how a log line is cut.
import { describe, expect, test } from "bun:test";
import { TaskValueError } from "../../src/task/index.ts";
import { clipToBytes, toJsonText } from "../../src/task/json-value.ts";

const cap = { what: "result", maxBytes: 1_024, flag: "--max-result-bytes" };
const refusal = (value: unknown): string => {
  try {
    toJsonText(value, cap);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskValueError);
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${String(value)}`);
};

describe("toJsonText refuses what JSON cannot hold or would change, saying what and where", () => {
  const cycle: Record<string, unknown> = { list: [] };
  (cycle.list as unknown[]).push({ back: cycle });
  let deep: unknown = null;
  for (let i = 0; i < 129; i++) deep = [deep];

  test.each([
    [
      "a BigInt",
      { a: { b: 1n } },
      "result is not JSON: a BigInt at $.a.b (JSON has no BigInt: store it as a string)",
    ],
    [
      "a boxed BigInt",
      [Object(2n)],
      "result is not JSON: a BigInt at $[0] (JSON has no BigInt: store it as a string)",
    ],
    [
      "a cycle",
      cycle,
      "result is not JSON: a cycle at $.list[0].back: it refers back to $ (JSON cannot hold a reference)",
    ],
    ["a function", { run() {} }, "result is not JSON: a function at $.run (JSON has no functions)"],
    [
      "a symbol",
      { "odd key": Symbol() },
      'result is not JSON: a symbol at $["odd key"] (JSON has no symbols)',
    ],
    [
      "NaN",
      [Number.NaN],
      "result is not JSON: NaN at $[0] (JSON has no NaN or Infinity; JSON.stringify would store null)",
    ],
    [
      "-Infinity",
      { x: -Infinity },
      "result is not JSON: -Infinity at $.x (JSON has no NaN or Infinity; JSON.stringify would store null)",
    ],
    [
      "undefined in an array",
      [1, undefined],
      "result is not JSON: undefined at $[1] (JSON has no undefined; JSON.stringify would store null)",
    ],
    ["undefined alone", undefined, "result is not JSON: undefined (JSON has no undefined; use null)"],
    [
      "a Map",
      { m: new Map() },
      "result is not JSON: a Map at $.m (JSON would store it as {}: convert it with Object.fromEntries(map))",
    ],
    [
      "a Set",
      new Set([1]),
      "result is not JSON: a Set at $ (JSON would store it as {}: convert it with [...set])",
    ],
    ["a typed array", { bytes: new Uint8Array(2) }, "a Uint8Array at $.bytes"],
    ["an Error", [new Error("x")], "an Error at $[0]"],
    [
      "a throwing getter",
      Object.defineProperty({}, "g", {
        enumerable: true,
        get: () => {
          throw new Error("no");
        },
      }),
      "result is not JSON: reading $.g threw: no",
    ],
    [
      "a throwing toJSON",
      {
        d: {
          toJSON: () => {
            throw new Error("nope");
          },
        },
      },
      "result is not JSON: $.d.toJSON() threw: nope",
    ],
    ["129 levels", deep, "result is not JSON: it nests deeper than 128 levels at $[0][0]"],
  ])("%s", (_, value, message) => {
    expect(refusal(value)).toContain(message);
  });

  test("accepts what JSON takes as JSON.stringify does: toJSON, class instances, undefined properties, odd strings", () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    const value = {
      at: new Date(0),
      p: new Point(3, 4),
      gone: undefined,
      s: "\u0000\ud800😀",
      n: -0,
      big: 1e308,
    };
    expect(toJsonText(value, cap)).toBe(JSON.stringify(value));
    let deepest: unknown = null;
    for (let i = 0; i < 128; i++) deepest = [deepest];
    expect(toJsonText(deepest, cap)).toBe(JSON.stringify(deepest));
    // An object with a toJSON() is stored as what that returns, as JSON.stringify does.
    expect(toJsonText({ id: { toJSON: () => "12" } }, cap)).toBe('{"id":"12"}');
  });
});

describe("sizes are bytes of UTF-8", () => {
  test("exactly at the cap is accepted, one byte over is refused with the exact size", () => {
    expect(toJsonText("x".repeat(1_022), cap)).toHaveLength(1_024);
    expect(refusal("é".repeat(600))).toBe(
      "result is 1,202 bytes of JSON, over the 1,024-byte limit (--max-result-bytes)",
    );
  });

  test("a value known to be too large is refused without being serialised: huge, or exponentially shared", () => {
    expect(refusal("x".repeat(50_000_000))).toBe(
      "result is at least 50,000,002 bytes of JSON, over the 1,024-byte limit (--max-result-bytes)",
    );
    // 2^40 paths through 40 shared arrays: serialising it would never end.
    let shared: unknown = 1;
    for (let i = 0; i < 40; i++) shared = [shared, shared];
    const started = performance.now();
    expect(refusal(shared)).toStartWith("result is at least 1,0");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("clipToBytes", () => {
  test("cuts to the limit, marker included, never inside a character, and cutting again changes nothing", () => {
    const line = "😀".repeat(1_000);
    const cut = clipToBytes(line, 1_024, "--max-log-line-bytes");
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1_024);
    expect(cut).toEndWith(
      "… [cut: the line is 4,000 bytes, over the 1,024-byte limit (--max-log-line-bytes)]",
    );
    expect(cut.slice(0, cut.indexOf("…")).isWellFormed()).toBe(true);
    expect(clipToBytes(cut, 1_024, "--max-log-line-bytes")).toBe(cut);
    expect(clipToBytes("short", 1_024, "--max-log-line-bytes")).toBe("short");
  });
});
