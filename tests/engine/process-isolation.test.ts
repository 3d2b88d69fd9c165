import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskError, TaskManager } from "../../src/index.ts";
import { startManager, statusPath, type TestManager, tempDir, untilStatus } from "../helpers.ts";

const MEMORY_TASKS = new URL("../fixtures/memory-tasks.ts", import.meta.url);

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 4, stopGraceMs: 2_000, shutdownGraceMs: 1_000 });
  await env.manager.load(MEMORY_TASKS);
});
afterEach(async () => {
  await env.close();
});

/** The pid the task logged as its first line ("pid N"). */
async function pidOf(manager: TaskManager, id: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const line = (await manager.logs(id)).items.find((log) => log.message.startsWith("pid "));
    if (line) return Number(line.message.slice(4));
    await Bun.sleep(20);
  }
  throw new Error(`task ${id} logged no pid`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True while the process exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** True once the process is gone (a killed child lingers until it is reaped). */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await Bun.sleep(20);
  return !alive(pid);
}

type StepsResult = { startedAt: number; ran: number[]; pid: number; at: string };

describe('a task with isolation = "process"', () => {
  test("runs in its own process; progress, logs and its result arrive", async () => {
    const { manager } = env;
    const { task } = await manager.create("process-steps", { steps: 5, delayMs: 2 });
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"]);
    expect(done.status).toBe("FINISHED");
    const result = done.result as StepsResult;
    expect(result.ran).toEqual([0, 1, 2, 3, 4]);
    expect(result.pid).not.toBe(process.pid);
    expect(result.at).toBe("1970-01-01T00:00:00.000Z");
    expect(done.progress).toEqual({ done: 5, total: 5, message: "step 5" });
    const logs = (await manager.logs(task.id)).items.map((log) => log.message);
    expect(logs).toEqual([`pid ${result.pid}`, "step 0", "step 1", "step 2", "step 3", "step 4"]);
    expect(await gone(result.pid)).toBe(true);
  });

  test("pauses at a checkpoint, keeps its process and state while paused, and resumes", async () => {
    const { manager } = env;
    const { task } = await manager.create("process-steps", { steps: 40, delayMs: 10 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    expect((await manager.pause(task.id)).pending).toBe(true);
    const paused = await untilStatus(manager, task.id, ["PAUSED"]);
    const pausedAt = (paused.checkpoint as { next: number }).next;
    expect(pausedAt).toBeGreaterThanOrEqual(2);
    const pid = await pidOf(manager, task.id);
    await Bun.sleep(150);
    // Paused before step `pausedAt` ran: its progress stays at the step before.
    expect((await manager.require(task.id)).progress?.done).toBe(pausedAt);
    expect(alive(pid)).toBe(true);
    await manager.resume(task.id);
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"]);
    const result = done.result as StepsResult;
    // The same process went on from where it paused: nothing ran twice, nothing was skipped.
    expect(result.pid).toBe(pid);
    expect(result.ran).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await statusPath(manager, task.id)).toEqual([
      "PENDING",
      "RUNNING",
      "PAUSED",
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);
  });

  test("a paused task whose process was given back resumes in a new one from its checkpoint", async () => {
    await env.close();
    env = await startManager({ concurrency: 2, maxParkedWorkers: 0 });
    await env.manager.load(MEMORY_TASKS);
    const { manager } = env;
    const { task } = await manager.create("process-steps", { steps: 30, delayMs: 10 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    await manager.pause(task.id);
    const paused = await untilStatus(manager, task.id, ["PAUSED"]);
    const pausedAt = (paused.checkpoint as { next: number }).next;
    const firstPid = await pidOf(manager, task.id);
    expect(await gone(firstPid)).toBe(true);
    await manager.resume(task.id);
    const result = (await untilStatus(manager, task.id, ["FINISHED", "FAILED"])).result as StepsResult;
    expect(result.pid).not.toBe(firstPid);
    expect(result.startedAt).toBe(pausedAt);
    expect(result.ran).toEqual(Array.from({ length: 30 - pausedAt }, (_, i) => pausedAt + i));
  });

  test("stops at its next checkpoint, even in a loop that awaits nothing but checkpoints", async () => {
    const { manager } = env;
    const steps = (await manager.create("process-steps", { steps: 1000, delayMs: 5 })).task;
    const busy = (await manager.create("process-busy", { ms: 20_000 })).task;
    await manager.waitFor(steps.id, (t) => (t.progress?.done ?? 0) >= 2);
    await untilStatus(manager, busy.id, ["RUNNING"]);
    await Bun.sleep(200); // the busy loop is under way
    const asked = performance.now();
    await manager.stop(steps.id, { reason: "enough" });
    await manager.stop(busy.id, { reason: "enough" });
    const [stopped, stoppedBusy] = await Promise.all([
      untilStatus(manager, steps.id, ["STOPPED", "FAILED"]),
      untilStatus(manager, busy.id, ["STOPPED", "FAILED"]),
    ]);
    expect(stopped.statusReason).toBe("enough");
    expect(stoppedBusy.statusReason).toBe("enough");
    // Acknowledged by the task, not ended by the 2 s grace period.
    expect(performance.now() - asked).toBeLessThan(2_000);
    expect(await gone(await pidOf(manager, steps.id))).toBe(true);
    expect(await gone(await pidOf(manager, busy.id))).toBe(true);
  });

  test("a child that calls process.exit fails its task clearly; the others go on", async () => {
    const { manager } = env;
    const other = (await manager.create("process-steps", { steps: 10, delayMs: 10 })).task;
    const { task } = await manager.create("process-crash", { how: "exit" });
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    const error = failed.error as TaskError;
    expect(error.name).toBe("WorkerCrashed");
    expect(error.message).toBe("its task process exited unexpectedly (code 5)");
    expect((await untilStatus(manager, other.id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
  });

  test("an error thrown outside the run ends the child; the task fails with that error", async () => {
    const { manager } = env;
    const { task } = await manager.create("process-crash", { how: "throw" });
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect((failed.error as TaskError).message).toBe(
      "its task process exited unexpectedly (code 1): TypeError: thrown in a timer",
    );
  });

  test("a child killed with SIGKILL fails its task clearly; new tasks still run", async () => {
    const { manager } = env;
    const { task } = await manager.create("process-crash", { how: "wait" });
    const pid = await pidOf(manager, task.id);
    process.kill(pid, "SIGKILL");
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect((failed.error as TaskError).message).toBe(
      "its task process exited unexpectedly (killed by SIGKILL)",
    );
    const next = (await manager.create("process-noop", {})).task;
    expect((await untilStatus(manager, next.id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
  });

  test("shutdown pauses it at its checkpoint; the next start resumes it there", async () => {
    await env.close();
    const dir = tempDir();
    const keepDir = { path: dir.path, remove: () => {} };
    const first = await startManager({ concurrency: 2 }, keepDir);
    await first.manager.load(MEMORY_TASKS);
    const { task } = await first.manager.create("process-steps", { steps: 30, delayMs: 10 });
    await first.manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    await first.close();
    env = await startManager({ concurrency: 2 }, dir);
    await env.manager.load(MEMORY_TASKS);
    const saved = await env.manager.require(task.id);
    // Requeued by the shutdown, not failed or restarted from the top.
    expect(await (await statusPath(env.manager, task.id)).slice(0, 3)).toEqual([
      "PENDING",
      "RUNNING",
      "PENDING",
    ]);
    const savedAt = (saved.checkpoint as { next: number }).next;
    expect(savedAt).toBeGreaterThanOrEqual(2);
    const result = (await untilStatus(env.manager, task.id, ["FINISHED", "FAILED"])).result as StepsResult;
    expect(result.startedAt).toBe(savedAt);
  });

  test("a child stuck in a synchronous loop dies with its parent, even when the parent is SIGKILLed", async () => {
    const parent = Bun.spawn(
      ["bun", new URL("./process-parent.ts", import.meta.url).pathname, join(env.dir, "orphan.db"), "15000"],
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = parent.stdout.getReader();
    let text = "";
    while (!/pid \d+\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the parent ended early: ${text}`);
      text += new TextDecoder().decode(value);
    }
    const pid = Number(/pid (\d+)/.exec(text)?.[1]);
    await Bun.sleep(100); // into its synchronous loop, where no IPC event is handled
    expect(running(pid)).toBe(true);
    parent.kill("SIGKILL");
    await parent.exited;
    // Killed by the kernel (a zombie until reaped, or gone), long before its 15 s loop ends.
    const deadline = Date.now() + 3_000;
    while (running(pid) && Date.now() < deadline) await Bun.sleep(20);
    expect(running(pid)).toBe(false);
  });

  test("shutdown ends every task process", async () => {
    const { manager } = env;
    const { task } = await manager.create("process-crash", { how: "wait" });
    const pid = await pidOf(manager, task.id);
    await manager.shutdown();
    expect(alive(pid)).toBe(false);
  });
});
