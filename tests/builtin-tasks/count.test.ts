import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { CountTask } from "../../src/builtin-tasks/index.ts";
import { resultOf, runTask, startTask } from "./harness.ts";

describe("count", () => {
  test("counts to `to`, reporting progress and a checkpoint every step", async () => {
    const { outcome, runtime } = await runTask(new CountTask(), { to: 5, delayMs: 0 });

    expect(resultOf(outcome)).toEqual({ counted: 5 });
    expect(Value.Check(CountTask.result, resultOf(outcome))).toBe(true);
    expect(runtime.states).toEqual([1, 2, 3, 4, 5].map((next) => ({ next })));
    expect(runtime.progressReports.map((report) => report.done)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(runtime.progressReports.every((report) => report.total === 5)).toBe(true);
    expect(runtime.logs.map((line) => line.message)).toContain("counted 5");
  });

  test("applies the defaults when parameters are omitted", async () => {
    const { outcome } = await runTask(new CountTask(), { delayMs: 0 });
    expect(resultOf(outcome)).toEqual({ counted: 10 });
  });

  test("counting to 0 finishes at once", async () => {
    const { outcome, runtime } = await runTask(new CountTask(), { to: 0, delayMs: 0 });
    expect(resultOf(outcome)).toEqual({ counted: 0 });
    expect(runtime.states).toEqual([]);
  });

  test("a stopped run resumes from its last checkpoint without counting again", async () => {
    const first = await runTask(new CountTask(), { to: 6, delayMs: 0 }, { stopAtCheckpoint: 3 });
    expect(first.outcome.status).toBe("stopped");
    expect(first.runtime.lastState).toEqual({ next: 3 });
    expect(Math.max(...first.runtime.progressReports.map((report) => report.done))).toBe(2);

    const second = await runTask(new CountTask(), { to: 6, delayMs: 0 }, { state: first.runtime.lastState });
    expect(resultOf(second.outcome)).toEqual({ counted: 6 });
    expect(second.runtime.states).toEqual([3, 4, 5, 6].map((next) => ({ next })));
    expect(second.runtime.progressReports.map((report) => report.done)).toEqual([2, 3, 4, 5, 6]);
    expect(second.runtime.logs[0]?.message).toBe("resuming at 3 of 6");
  });

  test("a stop cuts a long delay short", async () => {
    const started = performance.now();
    const { runtime, outcome } = startTask(new CountTask(), { to: 3, delayMs: 60_000 });
    await Bun.sleep(20);
    runtime.requestStop();
    expect((await outcome).status).toBe("stopped");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(runtime.progressReports.map((report) => report.done)).toEqual([0, 1]);
  });

  test("a malformed checkpoint is ignored with a warning", async () => {
    const { outcome, runtime } = await runTask(
      new CountTask(),
      { to: 2, delayMs: 0 },
      { state: { next: "three" } },
    );
    expect(resultOf(outcome)).toEqual({ counted: 2 });
    expect(runtime.logs.some((line) => line.level === "warn")).toBe(true);
    expect(runtime.states).toEqual([{ next: 1 }, { next: 2 }]);
  });

  test("its parameter schema applies defaults and refuses out-of-range values", () => {
    expect(Value.Default(CountTask.params, {})).toEqual({ to: 10, delayMs: 100 });
    expect(Value.Check(CountTask.params, { to: 3, delayMs: 0 })).toBe(true);
    expect(Value.Check(CountTask.params, { to: -1 })).toBe(false);
    expect(Value.Check(CountTask.params, { to: 1.5 })).toBe(false);
    expect(Value.Check(CountTask.params, { delayMs: 60_001 })).toBe(false);
  });
});
