// Property-based fuzzing of what tasks send kiln to store: results, checkpoint states, progress
// and log calls drawn from the classes that used to take the server down or lose data (BigInts,
// cycles, NaN and Infinity, functions, symbols, Maps, values too deep or too large, odd strings,
// unknown log levels), run on real workers and in task processes under `kiln serve`, each batch
// beside a healthy task. FUZZ_VALUE_RUNS (batches, default 16) and FUZZ_SEED widen or replay a run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { build } from "../fixtures/value-recipe.ts";
import { type CallOutcome, OUTCOMES_PREFIX, type ValuePlan } from "../fixtures/value-tasks.ts";
import { tempDir } from "../helpers.ts";
import { ALL_OK, serveValues, type TaskJson, type ValuesServer } from "../values/serve-values.ts";
import {
  type Caps,
  logOutcome,
  progressOutcome,
  valuePlan,
  valueProblems,
  wordsFor,
} from "./value-arbitraries.ts";

const BATCHES = Number(process.env.FUZZ_VALUE_RUNS ?? 16);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const TASKS_PER_BATCH = 3;
const CAPS: Caps = { result: 65_536, checkpoint: 32_768, logLine: 8_192 };
const MARKER = "… [cut: the line is ";

const dir = tempDir("kiln-fuzz-values-");
let server: ValuesServer;

beforeAll(async () => {
  server = await serveValues(dir.path, [
    "--max-result-bytes",
    String(CAPS.result),
    "--max-checkpoint-bytes",
    String(CAPS.checkpoint),
    "--max-log-line-bytes",
    String(CAPS.logLine),
  ]);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  dir.remove();
});

const violations: string[] = [];
const tally = { tasks: 0, finished: 0, failed: 0, refusedCalls: 0, inProcess: 0 };

function check(what: string, ok: boolean, detail: () => unknown): void {
  if (!ok) violations.push(`${what}: ${JSON.stringify(detail()).slice(0, 600)}`);
}

const anyWord = (message: string | undefined, words: string[]) =>
  words.some((word) => message?.includes(word));

/** A stored log line is the text, or (over the cap) a prefix of it with the marker. */
function storedLineMatches(stored: string, text: string): boolean {
  // SQLite stores text as UTF-8: a lone surrogate comes back as U+FFFD.
  const wellFormed = text.toWellFormed();
  if (Buffer.byteLength(text) <= CAPS.logLine) return stored === wellFormed;
  const cut = stored.indexOf(MARKER);
  return cut >= 0 && Buffer.byteLength(stored) <= CAPS.logLine && wellFormed.startsWith(stored.slice(0, cut));
}

/** Checks one fuzzed task against what its plan must have led to. */
async function judge(task: TaskJson, plan: ValuePlan): Promise<void> {
  const label = `task ${task.id} (${task.name}) plan ${JSON.stringify(plan).slice(0, 300)}`;
  const logs = await server.logs(task.id);
  const last = logs.at(-1);
  let outcomes: CallOutcome[] = [];
  try {
    outcomes = JSON.parse(last?.message.slice(OUTCOMES_PREFIX.length) ?? "");
  } catch {
    check(`${label}: its outcomes line is missing or cut`, false, () => last);
  }
  const outcome = (call: CallOutcome["call"], index: number) =>
    outcomes.find((o) => o.call === call && o.index === index)?.error;

  // Checkpoint states: each bad one's call threw; the first bad one fails the task.
  let firstBadState: string[] | undefined;
  for (const [index, state] of (plan.states ?? []).entries()) {
    const problems = valueProblems(state, CAPS.checkpoint);
    const error = outcome("checkpoint", index);
    if (problems.size === 0) {
      check(`${label}: checkpoint ${index} threw`, error === null, () => error);
    } else {
      tally.refusedCalls += 1;
      firstBadState ??= wordsFor(problems);
      check(
        `${label}: checkpoint ${index} did not name ${[...problems]}`,
        error?.name === "TaskValueError" && anyWord(error.message, wordsFor(problems)),
        () => error,
      );
    }
  }

  // Progress: a call out of range threw; the last one in range is what the task shows.
  let shown: TaskJson["progress"] = null;
  for (const [index, call] of (plan.progress ?? []).entries()) {
    const expected = progressOutcome(call);
    const error = outcome("progress", index);
    if (expected.throws) {
      tally.refusedCalls += 1;
      check(`${label}: progress ${index} did not throw`, error?.name === "TaskValueError", () => error);
    } else {
      check(`${label}: progress ${index} threw`, error === null, () => error);
      shown = { done: expected.done, total: expected.total, message: expected.message, percent: null };
    }
  }
  // A FINISHED task's progress is completed: a total it had not reached becomes its done.
  if (shown !== null && task.status === "FINISHED" && shown.total !== null && shown.total > shown.done) {
    shown = { ...shown, done: shown.total };
  }
  check(
    `${label}: its progress is not the last good report`,
    shown === null
      ? task.progress === null
      : task.progress?.done === shown.done &&
          task.progress.total === shown.total &&
          task.progress.message === shown.message,
    () => ({ shown: task.progress, expected: shown }),
  );

  // Log calls: an unknown level or a message that cannot be text threw; the others are stored, in order.
  const stored = logs.slice(0, -1);
  const expectedLines: Array<{ level: string; text: string }> = [];
  for (const [index, call] of (plan.logs ?? []).entries()) {
    const expected = logOutcome(call);
    const error = outcome("log", index);
    if (expected.throws) {
      tally.refusedCalls += 1;
      check(`${label}: log ${index} did not throw`, error?.name === "TaskValueError", () => error);
    } else {
      check(`${label}: log ${index} threw`, error === null, () => error);
      expectedLines.push(expected);
    }
  }
  check(
    `${label}: its log lines are not the calls that went through`,
    stored.length === expectedLines.length &&
      stored.every(
        (line, i) =>
          line.level === expectedLines[i]?.level &&
          storedLineMatches(line.message, expectedLines[i]?.text ?? ""),
      ),
    () => ({
      stored: stored.map((l) => [l.level, l.message.slice(0, 80)]),
      expected: expectedLines.map((l) => [l.level, l.text.slice(0, 80)]),
    }),
  );

  // The end: a bad state fails it, else a bad result, else it finished with the result JSON holds.
  const resultProblems = plan.result === undefined ? new Set() : valueProblems(plan.result, CAPS.result);
  if (firstBadState) {
    check(
      `${label}: a bad state did not fail it`,
      task.status === "FAILED" &&
        task.error?.name === "TaskValueError" &&
        anyWord(task.error.message, firstBadState),
      () => task.error,
    );
  } else if (resultProblems.size > 0) {
    const words = wordsFor(
      resultProblems as Set<Parameters<typeof wordsFor>[0] extends Set<infer P> ? P : never>,
    );
    check(
      `${label}: a bad result did not fail it`,
      task.status === "FAILED" &&
        ["ResultNotSerialisable", "ResultTooLarge"].includes(task.error?.name ?? "") &&
        task.error?.retryable === false &&
        anyWord(task.error?.message, words),
      () => task.error,
    );
  } else {
    const expected =
      plan.result === undefined
        ? null
        : (JSON.parse(JSON.stringify(build(plan.result)) ?? "null") as unknown);
    check(`${label}: it did not finish`, task.status === "FINISHED", () => task.error);
    check(`${label}: its result is not what JSON holds`, Bun.deepEquals(task.result, expected, true), () => ({
      result: task.result,
      expected,
    }));
  }
  if (task.status === "FINISHED") tally.finished += 1;
  else tally.failed += 1;

  const views = await server.views(task.id);
  check(`${label}: a view did not answer 200`, Bun.deepEquals(views, ALL_OK), () => views);
}

test("every value a task sends is stored, or refused with a clear error; the server and its neighbours are unharmed", async () => {
  console.log(
    `fuzz values: seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${BATCHES} batches of ${TASKS_PER_BATCH}`,
  );
  const plans = fc.tuple(valuePlan(CAPS), fc.integer({ min: 0, max: 3 }));
  for (let batch = 0; batch < BATCHES; batch++) {
    const drawn = fc.sample(fc.array(plans, { minLength: TASKS_PER_BATCH, maxLength: TASKS_PER_BATCH }), {
      numRuns: 1,
      seed: SEED + batch,
    })[0];
    if (!drawn) continue;
    const healthy = await server.create("steps", { steps: 40, delayMs: 3 });
    const created = await Promise.all(
      await Promise.all(
        drawn.map(async ([plan, isolation]) => {
          // One run in four goes to a task process.
          const name = isolation === 0 ? "value-process" : "value";
          if (isolation === 0) tally.inProcess += 1;
          return { task: await server.create(name, plan), plan };
        }),
      ),
    );
    for (const { task, plan } of created) {
      tally.tasks += 1;
      await judge(await server.ended(task.id, 60_000), plan);
    }
    const neighbour = await server.ended(healthy.id);
    const lines = (await server.logs(healthy.id)).map((line) => line.message);
    check(
      `batch ${batch}: the healthy task lost something`,
      neighbour.status === "FINISHED" &&
        Bun.deepEquals(
          lines,
          Array.from({ length: 40 }, (_, i) => `step ${i}`),
        ) &&
        neighbour.progress?.done === 40,
      () => ({ status: neighbour.status, lines: lines.length, progress: neighbour.progress }),
    );
    check(`batch ${batch}: the server is not alive`, server.proc.exitCode === null, () =>
      server.stderr().slice(-1_000),
    );
  }
  const errors = server.lines.filter((line) => line.includes('"level":"error"'));
  console.log(
    `fuzz values: ${tally.tasks} tasks (${tally.inProcess} in a task process): ${tally.finished} finished, ${tally.failed} failed on a value, ${tally.refusedCalls} calls refused; ${violations.length} violations, ${errors.length} server errors`,
  );
  if (violations.length > 0)
    console.log(`fuzz values: seed ${SEED}; first violations:\n${violations.slice(0, 10).join("\n")}`);
  expect(violations.slice(0, 10)).toEqual([]);
  // A defence behind the worker's checks that had to act (a batch or an end the store refused) logs an error.
  expect(errors).toEqual([]);
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
}, 600_000);
