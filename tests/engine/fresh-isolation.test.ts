import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskManager } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

const GLOBAL_TASKS = new URL("../fixtures/global-tasks.ts", import.meta.url);

let env: TestManager;
beforeEach(async () => {
  // One worker, so a pooled task always runs on the worker the task before it used.
  env = await startManager({ concurrency: 1 });
  await env.manager.load(GLOBAL_TASKS);
});
afterEach(async () => {
  await env.close();
});

async function run(manager: TaskManager, name: string, params: unknown = {}) {
  const { task } = await manager.create(name, params);
  const ended = await untilStatus(manager, task.id, ["FINISHED", "FAILED", "STOPPED"]);
  expect(ended.status).toBe("FINISHED");
  return ended.result as { seen: string | null } | null;
}

describe('static isolation = "fresh": a new worker per run', () => {
  test("pooled workers keep a task's globals for the next task on that worker (what fresh is for)", async () => {
    await run(env.manager, "leave-secret", { secret: "s3cr3t" });
    expect(await run(env.manager, "read-secret")).toEqual({ seen: "s3cr3t" });
  });

  test("a fresh task cannot see a global set by an earlier task, pooled or fresh, and leaves none behind", async () => {
    await run(env.manager, "leave-secret", { secret: "from-pooled" });
    expect(await run(env.manager, "fresh-read-secret")).toEqual({ seen: null });
    await run(env.manager, "fresh-leave-secret", { secret: "from-fresh" });
    expect(await run(env.manager, "fresh-read-secret")).toEqual({ seen: null });
    // The pooled worker still has its own task's global, and never saw the fresh one's.
    expect(await run(env.manager, "read-secret")).toEqual({ seen: "from-pooled" });
  });

  test("its worker is ended with the run; pause and resume work as on a pooled worker", async () => {
    const pooled = env.manager.stats().workers;
    const { task } = await env.manager.create("fresh-steps", { steps: 40, delayMs: 10 });
    await env.manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    expect(env.manager.stats().workers).toBe(pooled + 1);
    await env.manager.pause(task.id);
    await untilStatus(env.manager, task.id, ["PAUSED"]);
    await env.manager.resume(task.id);
    const done = await untilStatus(env.manager, task.id, ["FINISHED"]);
    expect((done.result as { startedAt: number }).startedAt).toBe(0); // resumed on its worker, not restarted
    const deadline = Date.now() + 10_000;
    while (env.manager.stats().workers > pooled && Date.now() < deadline) await Bun.sleep(10);
    expect(env.manager.stats().workers).toBe(pooled);
  });
});
