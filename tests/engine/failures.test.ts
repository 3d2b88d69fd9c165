import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { InvalidParamsError, type TaskError, UnknownTaskNameError } from "../../src/index.ts";
import { startManager, statusPath, type TestManager, untilStatus } from "../helpers.ts";

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 2 });
});
afterEach(async () => {
  await env.close();
});

const errorOf = (task: { error: unknown }) => task.error as TaskError;

describe("a task that fails", () => {
  test.each(["pre", "run"] as const)(
    "throwing in %s ends FAILED with the message, and post() still runs",
    async (where) => {
      const { manager } = env;
      const { task } = await manager.create("fail", { where });
      const failed = await untilStatus(manager, task.id, ["FAILED"]);
      expect(errorOf(failed).message).toBe(`failed in ${where}`);
      expect(failed.statusReason).toBe(`failed in ${where}`);
      expect(failed.endTime).not.toBeNull();
      const logs = (await manager.logs(task.id)).items.map((l) => l.message);
      expect(logs).toContain("post ran");
    },
  );

  test("throwing in post() fails a run that had finished", async () => {
    const { manager } = env;
    const { task } = await manager.create("fail-post", {});
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(errorOf(failed).message).toBe("failed in post");
  });

  test("a thrown non-Error value is described", async () => {
    const { manager } = env;
    const { task } = await manager.create("fail", { where: "run", value: "non-error" });
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(errorOf(failed).name).toBe("NonErrorThrown");
    expect(errorOf(failed).message).toContain('{"code":42}');
  });

  test("process.exit in a task fails only that task; the pool replaces the worker", async () => {
    const { manager } = env;
    const other = (await manager.create("steps", { steps: 10, delayMs: 10 })).task;
    const { task } = await manager.create("crash", {});
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(errorOf(failed).name).toBe("WorkerCrashed");
    expect(errorOf(failed).message).toContain("code 7");
    expect((await untilStatus(manager, other.id, ["FINISHED"])).status).toBe("FINISHED");
    const next = (await manager.create("echo", { value: 1 })).task;
    expect((await untilStatus(manager, next.id, ["FINISHED"])).status).toBe("FINISHED");
  });

  test("a result that fails its schema, or cannot be sent, fails the task without retry", async () => {
    const { manager } = env;
    const bad = (await manager.create("bad-result", {})).task;
    const failed = await untilStatus(manager, bad.id, ["FAILED"]);
    expect(errorOf(failed).name).toBe("InvalidResult");
    expect(errorOf(failed).message).toContain("/n");
    const unsendable = (await manager.create("unserialisable-result", {})).task;
    const failed2 = await untilStatus(manager, unsendable.id, ["FAILED"]);
    expect(errorOf(failed2).name).toBe("ResultNotSerialisable");
  });
});

describe("retries and timeouts", () => {
  test("a failing task is retried with backoff until it succeeds", async () => {
    const { manager } = env;
    const { task } = await manager.create("flaky", { succeedOn: 3 });
    const done = await untilStatus(manager, task.id, ["FINISHED"]);
    expect(done.result).toEqual({ attempt: 3 });
    expect(await statusPath(manager, task.id)).toEqual([
      "PENDING",
      "RUNNING",
      "PENDING",
      "RUNNING",
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);
    const retries = (await manager.events(task.id)).items.filter((e) => e.action === "retry");
    expect(retries).toHaveLength(2);
    expect(retries[0]?.reason).toMatch(/^retry 1 of 2 in \d+ ms after Error: attempt 1 fails$/);
    // Backoff: each retry waited at least half its exponential delay (10 ms, then 20 ms).
    const events = (await manager.events(task.id)).items;
    const starts = events.filter((e) => e.action === "start").map((e) => e.at);
    const retryAts = retries.map((e) => e.at);
    expect((starts[1] as number) - (retryAts[0] as number)).toBeGreaterThanOrEqual(10);
    expect((starts[2] as number) - (retryAts[1] as number)).toBeGreaterThanOrEqual(20);
  });

  test("when retries run out the task ends FAILED with the last error", async () => {
    const { manager } = env;
    const { task } = await manager.create("flaky", { succeedOn: 10 });
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(failed.attempt).toBe(3);
    expect(errorOf(failed).message).toBe("attempt 3 fails");
  });

  test("an UnrecoverableError is not retried", async () => {
    const { manager } = env;
    const { task } = await manager.create("unrecoverable", {});
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(failed.attempt).toBe(1);
    expect(errorOf(failed).retryable).toBe(false);
  });

  test("a task that runs past its timeout fails as timed out", async () => {
    const { manager } = env;
    const { task } = await manager.create("slow", {});
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(errorOf(failed).name).toBe("TimeoutError");
    expect(errorOf(failed).message).toContain("timed out after 200 ms");
  });
});

describe("bad requests", () => {
  test("params that fail the schema are refused before a task exists", async () => {
    const { manager } = env;
    const before = (await manager.list()).items.length;
    await expect((async () => manager.create("steps", { steps: "many" }))()).rejects.toThrow(
      InvalidParamsError,
    );
    try {
      await manager.create("steps", { steps: -1 });
    } catch (error) {
      expect((error as InvalidParamsError).httpStatus).toBe(422);
      expect((error as Error).message).toContain("/steps");
    }
    expect((await manager.list()).items.length).toBe(before);
  });

  test("schema defaults are applied to the stored params", async () => {
    const { task } = await env.manager.create("steps", { steps: 1 });
    expect(task.params).toEqual({ steps: 1, delayMs: 5 });
  });

  test("an unknown task name is refused with the known names", async () => {
    await expect((async () => env.manager.create("nope", {}))()).rejects.toThrow(UnknownTaskNameError);
    await expect((async () => env.manager.create("nope", {}))()).rejects.toThrow(/known names: .*echo/);
  });
});
