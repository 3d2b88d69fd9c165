import { describe, expect, test } from "bun:test";
import { describeTask, TaskRegistry } from "../../src/engine/registry.ts";
import {
  BaseTask,
  InvalidParamsError,
  KilnError,
  type ParamIssue,
  type TaskClass,
  t,
  UnknownTaskNameError,
} from "../../src/index.ts";

interface GreetParams {
  name: string;
  times: number;
  loud: boolean;
}

class GreetTask extends BaseTask<GreetParams, { text: string }> {
  static override taskName = "greet";
  static override params = t.Object({
    name: t.String({ minLength: 1 }),
    times: t.Integer({ minimum: 1, default: 1 }),
    loud: t.Boolean({ default: false }),
  });
  static override result = t.Object({ text: t.String() });
  async run(params: GreetParams) {
    return { text: `hello ${params.name}`.repeat(params.times) };
  }
}

class FreeformTask extends BaseTask {
  static override taskName = "freeform";
  async run() {
    return null;
  }
}

/** A class with every static option set, to check they are carried over. */
class TunedTask extends BaseTask {
  static override taskName = "tuned.task:v1_x-2";
  static override retry = { attempts: 4, backoffMs: 50 };
  static override timeoutMs = 1_500;
  static override concurrency = 2;
  static override resumable = false;
  static override checkpointIntervalMs = 0;
  static override stopGraceMs = 250;
  async run() {
    return 1;
  }
}

/** A class whose statics are set per test. */
function taskClass(statics: Record<string, unknown>): TaskClass {
  class Custom extends BaseTask {
    async run() {
      return null;
    }
  }
  Object.assign(Custom, statics);
  return Custom as unknown as TaskClass;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("describeTask", () => {
  test("resolves the static options", () => {
    const described = describeTask(TunedTask, "/tasks/tuned.ts");
    expect(described.name).toBe("tuned.task:v1_x-2");
    expect(described.cls).toBe(TunedTask);
    expect(described.module).toBe("/tasks/tuned.ts");
    expect(described.retry).toEqual({ attempts: 4, backoffMs: 50, maxBackoffMs: 300_000 });
    expect(described.timeoutMs).toBe(1_500);
    expect(described.concurrency).toBe(2);
    expect(described.resumable).toBe(false);
    expect(described.checkpointIntervalMs).toBe(0);
    expect(described.stopGraceMs).toBe(250);
  });

  test("applies the defaults", () => {
    const described = describeTask(FreeformTask, undefined);
    expect(described.module).toBeUndefined();
    expect(described.retry).toEqual({ attempts: 1, backoffMs: 1_000, maxBackoffMs: 300_000 });
    expect(described.timeoutMs).toBeUndefined();
    expect(described.concurrency).toBeUndefined();
    expect(described.resumable).toBe(true);
    expect(described.checkpointIntervalMs).toBe(200);
    expect(described.paramsSchema).toBeUndefined();
    expect(described.resultSchema).toBeUndefined();
  });

  test("rejects a class without a static taskName of its own", () => {
    class Inherits extends GreetTask {}
    expect(() => describeTask(Inherits, undefined)).toThrow(/taskName/);
    expect(() => describeTask(taskClass({}), undefined)).toThrow(/taskName/);
    expect(() => describeTask(taskClass({ taskName: "" }), undefined)).toThrow(/taskName/);
    expect(() => describeTask(taskClass({ taskName: "   " }), undefined)).toThrow(/taskName/);
    expect(() => describeTask(taskClass({ taskName: 42 }), undefined)).toThrow(/taskName/);
  });

  test("a subclass that names itself is accepted", () => {
    class LoudGreet extends GreetTask {
      static override taskName = "loud-greet";
    }
    expect(describeTask(LoudGreet, undefined).name).toBe("loud-greet");
  });

  test("rejects invalid names", () => {
    for (const name of [
      "has space",
      "-leading-dash",
      ".dot",
      "a/b",
      "ünïcode",
      "x".repeat(129),
      "tab\there",
    ]) {
      expect(() => describeTask(taskClass({ taskName: name }), undefined)).toThrow(/task name/);
    }
    for (const name of ["a", "A9", "x".repeat(128), "ns:name", "a.b_c-d"]) {
      expect(describeTask(taskClass({ taskName: name }), undefined).name).toBe(name);
    }
  });

  test("rejects retry.attempts below 1 or not an integer", () => {
    for (const attempts of [0, -1, 1.5, Number.NaN]) {
      expect(() => describeTask(taskClass({ taskName: "r", retry: { attempts } }), undefined)).toThrow(
        /retry\.attempts/,
      );
    }
    expect(describeTask(taskClass({ taskName: "r", retry: { attempts: 1 } }), undefined).retry.attempts).toBe(
      1,
    );
  });

  test("rejects a non-positive timeoutMs, concurrency or stopGraceMs", () => {
    for (const option of ["timeoutMs", "concurrency", "stopGraceMs"]) {
      for (const value of [0, -10, Number.NaN, Number.POSITIVE_INFINITY, "100"]) {
        expect(() => describeTask(taskClass({ taskName: "o", [option]: value }), undefined)).toThrow(
          new RegExp(option),
        );
      }
    }
  });
});

describe("parseParams", () => {
  const greet = describeTask(GreetTask, undefined);

  test("applies the schema's defaults and returns the value", () => {
    expect(greet.parseParams({ name: "ada" })).toEqual({ name: "ada", times: 1, loud: false });
    expect(greet.parseParams({ name: "ada", times: 3, loud: true })).toEqual({
      name: "ada",
      times: 3,
      loud: true,
    });
  });

  test("does not modify the caller's object", () => {
    const input = { name: "ada" };
    greet.parseParams(input);
    expect(input).toEqual({ name: "ada" });
  });

  test("throws InvalidParamsError (422) with the issues for wrong types", () => {
    const error = thrown(() => greet.parseParams({ name: 5, times: "two" }));
    expect(error).toBeInstanceOf(InvalidParamsError);
    expect(error).toBeInstanceOf(KilnError);
    const invalid = error as InvalidParamsError;
    expect(invalid.httpStatus).toBe(422);
    expect(invalid.code).toBe("invalid_params");
    expect(invalid.message).toContain("greet");
    const issues = (invalid.details as { issues: ParamIssue[] }).issues;
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      expect(typeof issue.path).toBe("string");
      expect(typeof issue.message).toBe("string");
      expect(issue.message.length).toBeGreaterThan(0);
    }
    const paths = issues.map((i) => i.path);
    expect(paths).toContain("/name");
    expect(paths).toContain("/times");
  });

  test("rejects a missing required property and constraint violations", () => {
    const missing = thrown(() => greet.parseParams({})) as InvalidParamsError;
    expect(missing).toBeInstanceOf(InvalidParamsError);
    expect((missing.details as { issues: ParamIssue[] }).issues.map((i) => i.path)).toContain("/name");

    const tooFew = thrown(() => greet.parseParams({ name: "ada", times: 0 })) as InvalidParamsError;
    expect((tooFew.details as { issues: ParamIssue[] }).issues.map((i) => i.path)).toEqual(["/times"]);

    expect(() => greet.parseParams("not an object")).toThrow(InvalidParamsError);
  });

  test("a task without a params schema takes anything, null when nothing", () => {
    const free = describeTask(FreeformTask, undefined);
    expect(free.parseParams(undefined)).toBeNull();
    expect(free.parseParams({ any: ["thing"] })).toEqual({ any: ["thing"] });
    expect(free.parseParams(7)).toBe(7);
  });
});

describe("checkResult", () => {
  const greet = describeTask(GreetTask, undefined);

  test("returns no issues for a valid result", () => {
    expect(greet.checkResult({ text: "hello" })).toEqual([]);
  });

  test("returns the issues of an invalid result", () => {
    const issues = greet.checkResult({ text: 42 });
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.path).toBe("/text");
    expect(issues[0]?.message.length).toBeGreaterThan(0);
    expect(greet.checkResult(undefined).length).toBeGreaterThan(0);
  });

  test("a task without a result schema accepts any result", () => {
    expect(describeTask(FreeformTask, undefined).checkResult({ whatever: 1 })).toEqual([]);
  });
});

describe("TaskRegistry", () => {
  test("registers classes and lists their names sorted", () => {
    const registry = new TaskRegistry();
    registry.add(GreetTask, undefined);
    registry.add(FreeformTask, "/tasks/free.ts");
    expect(registry.names()).toEqual(["freeform", "greet"]);
    expect(registry.get("greet")?.cls).toBe(GreetTask);
    expect(registry.require("freeform").module).toBe("/tasks/free.ts");
    expect(registry.all().map((r) => r.name)).toEqual(["freeform", "greet"]);
    expect(registry.get("nope")).toBeUndefined();
  });

  test("adding the same class twice is fine", () => {
    const registry = new TaskRegistry();
    registry.add(GreetTask, undefined);
    expect(() => registry.add(GreetTask, undefined)).not.toThrow();
    expect(registry.names()).toEqual(["greet"]);
  });

  test("refuses two different classes with the same name", () => {
    class OtherGreet extends BaseTask {
      static override taskName = "greet";
      async run() {
        return null;
      }
    }
    const registry = new TaskRegistry();
    registry.add(GreetTask, undefined);
    expect(() => registry.add(OtherGreet, "/tasks/other.ts")).toThrow(/"greet"/);
    expect(registry.get("greet")?.cls).toBe(GreetTask);
  });

  test("refuses what is not a task class", () => {
    const registry = new TaskRegistry();
    for (const value of [BaseTask, class NotATask {}, () => null, {}, "greet", undefined]) {
      expect(() => registry.add(value, undefined)).toThrow(/BaseTask/);
    }
    expect(registry.names()).toEqual([]);
  });

  test("require() of an unknown name throws UnknownTaskNameError listing the known names", () => {
    const registry = new TaskRegistry();
    registry.add(GreetTask, undefined);
    registry.add(FreeformTask, undefined);
    const error = thrown(() => registry.require("missing"));
    expect(error).toBeInstanceOf(UnknownTaskNameError);
    const unknown = error as UnknownTaskNameError;
    expect(unknown.httpStatus).toBe(404);
    expect(unknown.code).toBe("unknown_task_name");
    expect(unknown.message).toContain('"missing"');
    expect(unknown.message).toContain("freeform, greet");
    expect(unknown.details).toEqual({ known: ["freeform", "greet"] });

    const empty = thrown(() => new TaskRegistry().require("x")) as UnknownTaskNameError;
    expect(empty).toBeInstanceOf(UnknownTaskNameError);
    expect(empty.details).toEqual({ known: [] });
  });
});

describe("describeTask rejects bad numeric options", () => {
  class NegativeBackoff extends BaseTask<unknown, unknown> {
    static override taskName = "negative-backoff";
    static override retry = { attempts: 3, backoffMs: -5 };
    async run() {
      return null;
    }
  }
  class NaNInterval extends BaseTask<unknown, unknown> {
    static override taskName = "nan-interval";
    static override checkpointIntervalMs = Number.NaN;
    async run() {
      return null;
    }
  }
  test("a negative retry.backoffMs", () => {
    expect(() => describeTask(NegativeBackoff, undefined)).toThrow(/retry.backoffMs must be a number ≥ 0/);
  });
  test("a checkpointIntervalMs that is not a number", () => {
    expect(() => describeTask(NaNInterval, undefined)).toThrow(/checkpointIntervalMs must be a number ≥ 0/);
  });
});
