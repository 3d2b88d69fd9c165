import { afterEach, describe, expect, test } from "bun:test";
import { describeTask } from "../../src/engine/registry.ts";
import { BaseTask, type TaskClass, type TaskError, type TaskRecord } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

const MEMORY_TASKS = new URL("../fixtures/memory-tasks.ts", import.meta.url);

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function start(options: { taskMemoryLimitMb?: number } = {}): Promise<TestManager> {
  env = await startManager({ concurrency: 4, ...options });
  await env.manager.load(MEMORY_TASKS);
  return env;
}

function expectMemoryLimit(task: TaskRecord, limitMb: number): void {
  expect(task.status).toBe("FAILED");
  const error = task.error as TaskError;
  expect(error.name).toBe("MemoryLimitExceeded");
  expect(error.retryable).toBe(false);
  expect(error.message).toMatch(new RegExp(`^memory limit exceeded: \\d+ MB > ${limitMb} MB`));
  // The guard ended it well before the task's own 1024 MB stop.
  const usedMb = Number(/exceeded: (\d+) MB/.exec(error.message)?.[1]);
  expect(usedMb).toBeGreaterThan(limitMb);
  expect(usedMb).toBeLessThan(1024);
}

/** Starts the runaway beside three ordinary tasks; all four must settle. */
async function runawayAmongOthers(name: string, params: object) {
  const { manager } = env as TestManager;
  const others = await Promise.all(
    [1, 2, 3].map(async (n) => (await manager.create("steps", { steps: 20 + n, delayMs: 10 })).task),
  );
  const runaway = (await manager.create(name, params)).task;
  const ended = await untilStatus(manager, runaway.id, ["FINISHED", "FAILED", "STOPPED"]);
  const finished = await Promise.all(others.map((o) => untilStatus(manager, o.id, ["FINISHED", "FAILED"])));
  return { ended, finished };
}

describe("a task over its memory limit", () => {
  test("in a task process, a synchronous allocation loop is ended on its resident size; the others finish", async () => {
    await start();
    const { ended, finished } = await runawayAmongOthers("process-hog", { style: "sync" });
    expectMemoryLimit(ended, 160);
    expect((ended.error as TaskError).message).toContain("resident size of its process");
    expect(finished.map((t) => t.status)).toEqual(["FINISHED", "FINISHED", "FINISHED"]);
  });

  test("on a worker thread, a loop that calls checkpoint() is ended on its heap; the others finish", async () => {
    await start();
    const { ended, finished } = await runawayAmongOthers("thread-hog", { style: "checkpoint" });
    expectMemoryLimit(ended, 128);
    expect((ended.error as TaskError).message).toContain("JavaScript heap");
    expect(finished.map((t) => t.status)).toEqual(["FINISHED", "FINISHED", "FINISHED"]);
  });

  test("on a worker thread, a synchronous loop that reports progress is ended on its heap", async () => {
    await start();
    const { ended, finished } = await runawayAmongOthers("thread-hog", { style: "progress" });
    expectMemoryLimit(ended, 128);
    expect(finished.map((t) => t.status)).toEqual(["FINISHED", "FINISHED", "FINISHED"]);
  });

  test("on a worker thread, a loop that awaits between allocations is ended without any checkpoint", async () => {
    await start();
    const { ended, finished } = await runawayAmongOthers("thread-hog", { style: "yield" });
    expectMemoryLimit(ended, 128);
    expect(finished.map((t) => t.status)).toEqual(["FINISHED", "FINISHED", "FINISHED"]);
  });

  test("on a worker thread, a synchronous loop that never calls into kiln is out of reach (the documented limit)", async () => {
    const { manager } = await start();
    // Bounded at 256 MB: nothing on the thread runs until the loop returns, and nothing outside can measure it.
    const { task } = await manager.create("thread-hog", { style: "sync", maxMb: 256 });
    const ended = await untilStatus(manager, task.id, ["FINISHED", "FAILED"]);
    expect(ended.result).toEqual({ reachedMb: 256 });
  });

  test("the manager's taskMemoryLimitMb caps a class that sets none, and the worker's memory is given back", async () => {
    const { manager } = await start({ taskMemoryLimitMb: 96 });
    const before = process.memoryUsage().rss;
    const runaway = (await manager.create("uncapped-hog", { style: "checkpoint" })).task;
    expectMemoryLimit(await untilStatus(manager, runaway.id, ["FINISHED", "FAILED"]), 96);
    const echo = (await manager.create("echo", { value: "after" })).task;
    expect((await untilStatus(manager, echo.id, ["FINISHED"])).result).toEqual({ value: "after" });
    // The terminated worker's heap is freed: the process holds far less than the runaway reached.
    Bun.gc(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(96 * 1024 * 1024);
  });

  test("a task under its limit is left alone", async () => {
    const { manager } = await start();
    const small = (await manager.create("thread-hog", { style: "checkpoint", maxMb: 48 })).task;
    const inProcess = (await manager.create("process-hog", { style: "sync", maxMb: 48 })).task;
    expect((await untilStatus(manager, small.id, ["FINISHED", "FAILED"])).result).toEqual({ reachedMb: 48 });
    expect((await untilStatus(manager, inProcess.id, ["FINISHED", "FAILED"])).result).toEqual({
      reachedMb: 48,
    });
  });
});

describe("memory limit options", () => {
  class Plain extends BaseTask {
    static override taskName = "plain";
    async run() {
      return null;
    }
  }

  test("a class's isolation and memoryLimitMb are read, with thread isolation and no cap by default", () => {
    expect(describeTask(Plain, undefined)).toMatchObject({ isolation: "worker", memoryLimitMb: undefined });
    class Isolated extends Plain {
      static override taskName = "isolated";
      static override isolation = "process" as const;
      static override memoryLimitMb = 256;
    }
    expect(describeTask(Isolated, undefined)).toMatchObject({ isolation: "process", memoryLimitMb: 256 });
  });

  test("a bad isolation or memoryLimitMb fails registration with the option named", () => {
    const bad = (statics: Record<string, unknown>) =>
      Object.assign(class extends Plain {}, { taskName: "bad", ...statics }) as unknown as TaskClass;
    expect(() => describeTask(bad({ isolation: "vm" }), undefined)).toThrow(
      'task "bad": static isolation must be one of worker, fresh, process, got vm',
    );
    for (const value of [0, -5, Number.NaN, "64"]) {
      expect(() => describeTask(bad({ memoryLimitMb: value }), undefined)).toThrow("static memoryLimitMb");
    }
  });

  test("a bad taskMemoryLimitMb is refused at construction", async () => {
    await expect(start({ taskMemoryLimitMb: -1 })).rejects.toThrow(
      "taskMemoryLimitMb must be a positive number",
    );
  });
});
