import { describe, expect, test } from "bun:test";
import {
  checkFlowDeclarations,
  computeKey,
  MAX_KEY_LENGTH,
  NAME_WIDE_KEY,
  taskKeysOf,
} from "../../src/flow/index.ts";
import type * as kiln from "../../src/index.ts";
import {
  BaseTask,
  type ConcurrencyDeclaration,
  type KeyConcurrencyDeclaration,
  type RateLimitDeclaration,
  type TaskClass,
} from "../../src/task/index.ts";

type ImportParams = { customerId: string; file: string };

class ImportTask extends BaseTask<ImportParams> {
  static override taskName = "import";
  static override rateLimit = {
    count: 10,
    perMs: 60_000,
    key: (params) => params.customerId,
  } satisfies RateLimitDeclaration<ImportParams>;
  static override concurrency = {
    limit: 1,
    key: (params) => `customer:${params.customerId}`,
  } satisfies KeyConcurrencyDeclaration<ImportParams>;
  async run() {}
}

class ReportTask extends BaseTask {
  static override taskName = "report";
  static override concurrency: ConcurrencyDeclaration = 2;
  static override rateLimit: RateLimitDeclaration = { count: 1, perMs: 1_000 };
  async run() {}
}

function rulesOf(cls: TaskClass) {
  const checked = checkFlowDeclarations(cls);
  if (!checked.ok) throw new Error(`expected rules, got ${JSON.stringify(checked.errors)}`);
  return checked.rules;
}

describe("a task class's flow declarations", () => {
  test("are part of the SDK's types: a class declares them, typed by its params, and a TaskClass carries them", () => {
    const cls: TaskClass = ImportTask;
    const rules = rulesOf(cls);
    expect(rules.rateLimit).toMatchObject({ count: 10, perMs: 60_000 });
    expect(rules.concurrency).toMatchObject({ kind: "key", limit: 1 });
    expect(rulesOf(ReportTask)).toEqual({
      rateLimit: { count: 1, perMs: 1_000, key: null },
      concurrency: { kind: "name", limit: 2 },
    });
    expect(
      rulesOf(
        class extends BaseTask {
          static override taskName = "plain";
          async run() {}
        },
      ),
    ).toEqual({ rateLimit: null, concurrency: null });
  });

  test("the SDK entry exports the declaration types (a type-only check: this file compiles)", () => {
    const declaration: kiln.RateLimitDeclaration<{ id: string }> = { count: 1, perMs: 1, key: (p) => p.id };
    const outcome: kiln.ChildOutcome<number> = { id: "c", status: "FINISHED", result: 1 };
    const byKey: kiln.ConcurrencyDeclaration<{ id: string }> = { limit: 1, key: (p) => p.id };
    expect([declaration.count, outcome.status, typeof byKey]).toEqual([1, "FINISHED", "object"]);
  });

  test("both are checked together and every problem is reported", () => {
    expect(checkFlowDeclarations({ rateLimit: { count: 0, perMs: 1 }, concurrency: { limit: 1 } })).toEqual({
      ok: false,
      errors: [
        { field: "rateLimit.count", message: "must be an integer from 1 to 10,000, got 0" },
        { field: "concurrency.key", message: expect.stringContaining("is required in the object form") },
      ],
    });
  });
});

describe("the keys of a new task", () => {
  test("computed once from the validated params; a name-wide rate limit uses the name-wide key", () => {
    expect(taskKeysOf("import", rulesOf(ImportTask), { customerId: "acme", file: "a.csv" })).toEqual({
      ok: true,
      rateKey: "acme",
      concurrencyKey: "customer:acme",
    });
    expect(taskKeysOf("report", rulesOf(ReportTask), {})).toEqual({
      ok: true,
      rateKey: NAME_WIDE_KEY,
      concurrencyKey: null,
    });
    expect(taskKeysOf("plain", { rateLimit: null, concurrency: null }, {})).toEqual({
      ok: true,
      rateKey: null,
      concurrencyKey: null,
    });
  });

  test("a key function that throws or returns no string refuses the create, naming the declaration", () => {
    expect(taskKeysOf("import", rulesOf(ImportTask), {})).toEqual({
      ok: false,
      message: 'static rateLimit.key of "import" must return a string, returned undefined',
    });
    const throwing = {
      rateLimit: null,
      concurrency: {
        kind: "key" as const,
        limit: 1,
        key: () => {
          throw new TypeError("no customer");
        },
      },
    };
    expect(taskKeysOf("import", throwing, {})).toEqual({
      ok: false,
      message: 'static concurrency.key of "import" threw TypeError: no customer',
    });
  });

  test("computeKey: strings of 1 to 200 characters only; a number, a promise, null each say what came back", () => {
    const run = (value: unknown) => computeKey(() => value, {}, "key");
    expect(run("acme")).toEqual({ ok: true, key: "acme" });
    expect(run("x".repeat(MAX_KEY_LENGTH))).toEqual({ ok: true, key: "x".repeat(MAX_KEY_LENGTH) });
    expect(run("")).toEqual({ ok: false, message: "key must return 1 to 200 characters, returned 0" });
    expect(run("x".repeat(MAX_KEY_LENGTH + 1))).toMatchObject({ ok: false });
    expect(run(42)).toEqual({
      ok: false,
      message: "key must return a string, returned a number (42); return String(...) of it",
    });
    expect(run(Promise.resolve("acme"))).toEqual({
      ok: false,
      message: "key must return a string, returned a promise (key functions must be synchronous)",
    });
    expect(run(null)).toEqual({ ok: false, message: "key must return a string, returned null" });
    expect(run({})).toEqual({ ok: false, message: "key must return a string, returned a object" });
    const weird = computeKey(
      () => {
        throw {
          toString: () => {
            throw new Error("worse");
          },
        };
      },
      {},
      "key",
    );
    expect(weird).toEqual({ ok: false, message: "key threw a value that cannot be shown" });
  });
});
