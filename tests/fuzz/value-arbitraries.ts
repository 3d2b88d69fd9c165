// Generators of what a task may try to store (results, checkpoint states, progress and log calls),
// drawn from the classes that used to break kiln, and the outcome each plan must have.
import fc from "fast-check";
import { build, PROBLEM_WORDS, type Problem, problemsOf, type Recipe } from "../fixtures/value-recipe.ts";
import type { ValuePlan } from "../fixtures/value-tasks.ts";

/** The caps the fuzzed server runs with: small, so that "huge" values cross them often. */
export interface Caps {
  result: number;
  checkpoint: number;
  logLine: number;
}

/** Strings that have broken text handling somewhere: NUL, lone surrogates, separators, markup. */
const oddString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom(
    "",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff tail",
    "😀",
    "\u2028\u2029",
    "\u202eRTL",
    "<script>alert(1)</script>",
    "'; DROP TABLE tasks; --",
    '"quoted" \\ backslash',
    "\r\n\t",
  ),
);

/** Plain JSON values, valid anywhere. */
const jsonLeaf = fc.oneof(
  oddString,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("__proto__", "constructor", "toJSON", "a b", ""),
);

const HUGE_CHARS = ["x", "é", "€", "😀", "\ud800", '"', "\n"];

/**
 * A long string of one character, its length drawn mostly right around `cap` (a few bytes under
 * or over it, counting the character's bytes as JSON text or as UTF-8), else short, else far over.
 */
function huge(cap: number, as: "json" | "utf8"): fc.Arbitrary<Recipe> {
  return fc.constantFrom(...HUGE_CHARS).chain((char) => {
    const bytes = Buffer.byteLength(as === "json" ? JSON.stringify(char).slice(1, -1) : char);
    const atCap = Math.floor(cap / bytes);
    return fc
      .oneof(
        { weight: 3, arbitrary: fc.integer({ min: Math.max(0, atCap - 12), max: atCap + 12 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 64 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: atCap * 3 }) },
      )
      .map((count) => ({ huge: count, char }));
  });
}

/** One value a recipe builds, without children. */
function leaf(caps: Caps): fc.Arbitrary<Recipe> {
  return fc.oneof(
    { weight: 8, arbitrary: jsonLeaf.map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.bigInt().map((n) => ({ bigint: n.toString() })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("NaN", "Infinity", "-Infinity").map((n) => ({ number: n }) as Recipe),
    },
    { weight: 1, arbitrary: fc.constant({ fn: true } as const) },
    { weight: 1, arbitrary: fc.constant({ symbol: true } as const) },
    { weight: 1, arbitrary: fc.constant({ undefined: true } as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(1, 50, 120, 126, 127, 128, 129, 200, 3_000).map((deep) => ({ deep })),
    },
    { weight: 1, arbitrary: fc.oneof(huge(caps.result, "json"), huge(caps.checkpoint, "json")) },
    { weight: 1, arbitrary: fc.constant({ throwingGetter: true } as const) },
    { weight: 1, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }).map((date) => ({ date })) },
  );
}

/** Trees of values: arrays, objects, cycles and Maps around the leaves, a few levels deep. */
export function recipe(caps: Caps): fc.Arbitrary<Recipe> {
  const { value } = fc.letrec<{ value: Recipe; array: Recipe; object: Recipe; cycle: Recipe; map: Recipe }>(
    (tie) => ({
      value: fc.oneof(
        { depthSize: "small", maxDepth: 4 },
        leaf(caps),
        tie("array"),
        tie("object"),
        tie("cycle"),
        tie("map"),
      ),
      array: fc.array(tie("value"), { maxLength: 4 }).map((array) => ({ array })),
      object: fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((object) => ({ object })),
      cycle: tie("value").map((cycle) => ({ cycle })),
      map: fc.array(fc.tuple(key, tie("value")), { maxLength: 2 }).map((map) => ({ map })),
    }),
  );
  return value;
}

/** What progress() may be given: numbers of every kind, and things that are not numbers. */
const progressNumber: fc.Arbitrary<Recipe> = fc.oneof(
  fc.double().map((n) => (Number.isFinite(n) ? { json: n } : { number: String(n) as "NaN" })),
  fc.integer({ min: -5, max: 1_000 }).map((json) => ({ json })),
  fc.constantFrom<Recipe>({ json: "5" }, { json: null }, { bigint: "5" }, { undefined: true }, { json: [1] }),
);

const message: fc.Arbitrary<Recipe> = fc.oneof(
  { weight: 6, arbitrary: oddString.map((json) => ({ json })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Recipe>({ bigint: "10" }, { symbol: true }, { fn: true }, { json: 42 }),
  },
  { weight: 1, arbitrary: fc.constantFrom<Recipe>({ cycle: { json: 1 } }, { map: [] }, { undefined: true }) },
  { weight: 1, arbitrary: fc.constant<Recipe>({ throwingString: true }) },
);

const level: fc.Arbitrary<Recipe> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("debug", "info", "warn", "error").map((json) => ({ json })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Recipe>(
      { json: "fatal" },
      { json: "INFO" },
      { json: "" },
      { json: 1 },
      { json: null },
      { undefined: true },
      { symbol: true },
    ),
  },
);

/** A whole plan for one run: states, progress and log calls, and a result. */
export function valuePlan(caps: Caps): fc.Arbitrary<ValuePlan> {
  const logMessage = fc.oneof(
    { weight: 3, arbitrary: message },
    { weight: 1, arbitrary: huge(caps.logLine, "utf8") },
  );
  // A huge string alone or in a small object, so that its size decides, without another problem.
  const nearCap = (cap: number) =>
    fc.oneof(
      huge(cap, "json"),
      fc.tuple(key, huge(cap, "json")).map(([name, value]) => ({ object: [[name, value]] }) as Recipe),
    );
  return fc.record(
    {
      result: fc.option(
        fc.oneof({ weight: 3, arbitrary: recipe(caps) }, { weight: 1, arbitrary: nearCap(caps.result) }),
        {
          nil: undefined,
        },
      ),
      states: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: jsonLeaf.map((json) => ({ json })) },
          { weight: 2, arbitrary: recipe(caps) },
          { weight: 1, arbitrary: nearCap(caps.checkpoint) },
        ),
        { maxLength: 3 },
      ),
      progress: fc.array(
        fc.record(
          {
            done: progressNumber,
            total: fc.option(progressNumber, { nil: undefined }),
            message: fc.option(message, { nil: undefined }),
          },
          { requiredKeys: ["done"] },
        ),
        { maxLength: 4 },
      ),
      logs: fc.array(fc.record({ level, message: logMessage }), { maxLength: 6 }),
    },
    { requiredKeys: [] },
  );
}

// ── The outcome a plan must have ────────────────────────────────────────────────────────────

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** What is wrong with a stored value (a result, a state): its problems, "large", or nothing. */
export function valueProblems(value: Recipe, cap: number): Set<Problem> {
  const problems = problemsOf(value);
  if (problems.size > 0) {
    // The walk may pass the cap on a huge string before it meets the problem; it can only when
    // the strings could be that long (at most 6 bytes of JSON per unit, "\ud800" escaped).
    if (hugeBytes(value) + 4_096 > cap) problems.add("large");
    return problems;
  }
  const text = JSON.stringify(build(value));
  if (text !== undefined && utf8(text) > cap) problems.add("large");
  return problems;
}

function hugeBytes(value: Recipe): number {
  if ("huge" in value) return value.huge * 6;
  if ("array" in value) return value.array.reduce((sum, item) => sum + hugeBytes(item), 0);
  if ("object" in value) return value.object.reduce((sum, [, item]) => sum + hugeBytes(item), 0);
  if ("cycle" in value) return hugeBytes(value.cycle);
  return 0;
}

/** The words an error about these problems may contain (it names one of them). */
export function wordsFor(problems: Set<Problem>): string[] {
  return [...problems].map((problem) => (problem === "large" ? "bytes of JSON" : PROBLEM_WORDS[problem]));
}

/** What a call of `progress(done, total, message)` does: throws, or stores this. */
export function progressOutcome(
  call: NonNullable<ValuePlan["progress"]>[number],
): { throws: true } | { throws: false; done: number; total: number | null; message: string | null } {
  const done = build(call.done);
  const total = call.total === undefined ? undefined : build(call.total);
  if (typeof done !== "number" || !Number.isFinite(done) || done < 0) return { throws: true };
  if (
    total !== undefined &&
    total !== null &&
    (typeof total !== "number" || !Number.isFinite(total) || total < done)
  ) {
    return { throws: true };
  }
  let text: string | null = null;
  if (call.message !== undefined) {
    const value = build(call.message);
    if (value !== undefined && value !== null) {
      try {
        text = String(value);
      } catch {
        return { throws: true };
      }
    }
  }
  return { throws: false, done, total: (total as number | null | undefined) ?? null, message: text };
}

/** What a call of `log(level, message)` does: throws, or stores a line with this level and text. */
export function logOutcome(
  call: NonNullable<ValuePlan["logs"]>[number],
): { throws: true } | { throws: false; level: string; text: string } {
  const value = build(call.level);
  if (!["debug", "info", "warn", "error"].includes(value as string)) return { throws: true };
  try {
    return { throws: false, level: value as string, text: String(build(call.message)) };
  } catch {
    return { throws: true };
  }
}
