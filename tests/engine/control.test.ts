import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { IllegalTransitionError } from "../../src/index.ts";
import { startManager, statusPath, type TestManager, untilStatus } from "../helpers.ts";

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 2, stopGraceMs: 2_000 });
});
afterEach(async () => {
  await env.close();
});

describe("pause and resume", () => {
  test("a RUNNING task pauses at a checkpoint, makes no progress while paused, and resumes from there", async () => {
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 30, delayMs: 10 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);

    const request = await manager.pause(task.id, { actor: "test", reason: "looking" });
    expect(request.pending).toBe(true);
    expect(request.task.requestedAction).toBe("pause");
    const paused = await untilStatus(manager, task.id, ["PAUSED"]);
    expect(paused.requestedAction).toBeNull();
    const savedAt = (paused.checkpoint as { next: number }).next;
    expect(savedAt).toBeGreaterThan(0);
    expect(manager.stats().running).toBe(0); // a paused task holds no concurrency slot

    const logsBefore = (await manager.logs(task.id, { limit: 500 })).items.length;
    await Bun.sleep(150);
    expect((await manager.logs(task.id, { limit: 500 })).items.length).toBe(logsBefore);
    expect(((await manager.require(task.id)).checkpoint as { next: number }).next).toBe(savedAt);

    expect((await manager.resume(task.id)).task.status).toBe("PENDING");
    const finished = await untilStatus(manager, task.id, ["FINISHED"]);
    const result = finished.result as { startedAt: number; ran: number[] };
    // One continuous run: every step exactly once, none repeated after the pause.
    expect(result.ran).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await statusPath(manager, task.id)).toEqual([
      "PENDING",
      "RUNNING",
      "PAUSED",
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);
    const pauseEvent = (await manager.events(task.id)).items.find((e) => e.toStatus === "PAUSED");
    expect(pauseEvent?.actor).toBe("test");
    expect(pauseEvent?.reason).toBe("looking");
  });

  test("a paused task whose worker was released resumes from its saved checkpoint", async () => {
    await env.close();
    env = await startManager({ concurrency: 2, maxParkedWorkers: 0 });
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 20, delayMs: 10 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
    await manager.pause(task.id);
    const paused = await untilStatus(manager, task.id, ["PAUSED"]);
    const savedAt = (paused.checkpoint as { next: number }).next;
    await Bun.sleep(50);
    await manager.resume(task.id);
    const finished = await untilStatus(manager, task.id, ["FINISHED"]);
    const result = finished.result as { startedAt: number; ran: number[] };
    expect(result.startedAt).toBe(savedAt);
    expect(result.ran[0]).toBe(savedAt);
    expect(result.ran.at(-1)).toBe(19);
  });

  test("pause and resume of a PENDING task happen at once", async () => {
    const { manager } = env;
    const { task } = await manager.create("echo", { value: 1 }, { paused: true });
    expect(task.status).toBe("PAUSED");
    await Bun.sleep(50);
    expect((await manager.require(task.id)).status).toBe("PAUSED");
    expect((await (await manager.task(task.id)).start()).task.status).toBe("PENDING");
    await untilStatus(manager, task.id, ["FINISHED"]);

    const blockers = [(await manager.create("hang", {})).task, (await manager.create("hang", {})).task];
    for (const b of blockers) await untilStatus(manager, b.id, ["RUNNING"]);
    const queued = (await manager.create("echo", { value: 2 })).task;
    const paused = await manager.pause(queued.id);
    expect(paused.pending).toBe(false);
    expect(paused.task.status).toBe("PAUSED");
    expect((await manager.resume(queued.id)).task.status).toBe("PENDING");
    for (const b of blockers) await manager.stop(b.id);
    await untilStatus(manager, queued.id, ["FINISHED"]);
  });

  test("resume before the pause is acknowledged withdraws the pause", async () => {
    const { manager } = env;
    const { task } = await manager.create("hang", {});
    await untilStatus(manager, task.id, ["RUNNING"]);
    expect((await manager.pause(task.id)).pending).toBe(true);
    const resumed = await manager.resume(task.id);
    expect(resumed.pending).toBe(false);
    expect(resumed.task.status).toBe("RUNNING");
    expect(resumed.task.requestedAction).toBeNull();
    await manager.stop(task.id);
    await untilStatus(manager, task.id, ["STOPPED"]);
  });

  test("a task can pause itself", async () => {
    const { manager } = env;
    const { task } = await manager.create("self-pause", {});
    const paused = await untilStatus(manager, task.id, ["PAUSED"]);
    expect(paused.statusReason).toBe("waiting for an operator");
    await manager.resume(task.id);
    const done = await untilStatus(manager, task.id, ["FINISHED"]);
    expect(done.result).toEqual({ resumed: true });
  });
});

describe("stop", () => {
  test("a cooperative task stops at its next checkpoint and post() runs", async () => {
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 1000, delayMs: 5 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 2);
    const request = await manager.stop(task.id, { reason: "no longer needed" });
    expect(request.pending).toBe(true);
    expect((await manager.stop(task.id)).pending).toBe(true); // a second stop is the same pending request
    const stopped = await untilStatus(manager, task.id, ["STOPPED"]);
    expect(stopped.statusReason).toBe("no longer needed");
    expect(stopped.endTime).not.toBeNull();
    expect(await statusPath(manager, task.id)).toEqual(["PENDING", "RUNNING", "STOPPED"]);
  });

  test("a task stuck in while(true) is stopped by terminating its worker, and the pool heals", async () => {
    const { manager } = env;
    const { task } = await manager.create("spin", {});
    await untilStatus(manager, task.id, ["RUNNING"]);
    await manager.stop(task.id);
    const stopped = await untilStatus(manager, task.id, ["STOPPED"]);
    expect(stopped.statusReason).toContain("worker was terminated");
    const next = (await manager.create("echo", { value: "after" })).task;
    expect((await untilStatus(manager, next.id, ["FINISHED"])).result).toEqual({ value: "after" });
  });

  test("a hung await is stopped after the grace period", async () => {
    const { manager } = env;
    const { task } = await manager.create("hang", {});
    await untilStatus(manager, task.id, ["RUNNING"]);
    await manager.stop(task.id);
    expect((await untilStatus(manager, task.id, ["STOPPED"])).statusReason).toContain("terminated");
  });

  test("stop of a PENDING or PAUSED task is immediate", async () => {
    const { manager } = env;
    const held = (await manager.create("echo", { value: 1 }, { paused: true })).task;
    const result = await manager.stop(held.id);
    expect(result.pending).toBe(false);
    expect(result.task.status).toBe("STOPPED");

    const { task } = await manager.create("steps", { steps: 1000, delayMs: 5 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 1);
    await manager.pause(task.id);
    await untilStatus(manager, task.id, ["PAUSED"]);
    expect((await manager.stop(task.id)).task.status).toBe("STOPPED");
    await Bun.sleep(100);
    expect(manager.stats().parked).toBe(0);
    expect((await manager.require(task.id)).status).toBe("STOPPED");
  });

  test("the main thread stays responsive while two CPU-bound tasks run", async () => {
    const { manager } = env;
    const spinners = [(await manager.create("spin", {})).task, (await manager.create("spin", {})).task];
    for (const s of spinners) await untilStatus(manager, s.id, ["RUNNING"]);
    const gaps: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(5);
      const now = performance.now();
      gaps.push(now - last);
      await manager.get(spinners[0]?.id ?? "");
      last = now;
    }
    // Generous bound for a loaded 2-core machine: a blocked thread would show the whole test duration.
    expect(Math.max(...gaps)).toBeLessThan(1_000);
    for (const s of spinners) await manager.stop(s.id);
    for (const s of spinners) await untilStatus(manager, s.id, ["STOPPED"]);
  });
});

describe("restart", () => {
  test("restart of a FINISHED task runs it again as a new attempt from the top", async () => {
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 3, delayMs: 1 });
    await untilStatus(manager, task.id, ["FINISHED"]);
    const restarted = await manager.restart(task.id);
    expect(restarted.pending).toBe(false);
    expect(restarted.task.status).toBe("PENDING");
    expect(restarted.task.attempt).toBe(2);
    expect(restarted.task.result).toBeNull();
    expect(restarted.task.checkpoint).toBeNull();
    const again = await untilStatus(manager, task.id, ["FINISHED"]);
    expect((again.result as { startedAt: number }).startedAt).toBe(0);
  });

  test("restart of a FAILED task", async () => {
    const { manager } = env;
    const { task } = await manager.create("flaky", { succeedOn: 4 });
    const failed = await untilStatus(manager, task.id, ["FAILED"]);
    expect(failed.attempt).toBe(3);
    await manager.restart(task.id);
    // attempt 4 now succeeds
    expect((await untilStatus(manager, task.id, ["FINISHED"])).result).toEqual({ attempt: 4 });
  });

  test("restart of a RUNNING task stops it and queues it again without its checkpoint", async () => {
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 40, delayMs: 5 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 5);
    const request = await manager.restart(task.id);
    expect(request.pending).toBe(true);
    const done = await untilStatus(manager, task.id, ["FINISHED"]);
    expect(done.attempt).toBe(2);
    expect((done.result as { startedAt: number }).startedAt).toBe(0);
    expect(await statusPath(manager, task.id)).toEqual([
      "PENDING",
      "RUNNING",
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);
  });
});

describe("illegal transitions are refused", () => {
  test("each with IllegalTransitionError (409)", async () => {
    const { manager } = env;
    const { task } = await manager.create("echo", { value: 1 });
    await untilStatus(manager, task.id, ["FINISHED"]);
    for (const action of ["pause", "resume", "stop"] as const) {
      const error = await (async () => manager[action](task.id))().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect((error as IllegalTransitionError).httpStatus).toBe(409);
      expect((error as Error).message).toContain("FINISHED");
    }
    const running = (await manager.create("hang", {})).task;
    await untilStatus(manager, running.id, ["RUNNING"]);
    await expect((async () => manager.resume(running.id))()).rejects.toThrow(/cannot resume a RUNNING task/);
    await manager.stop(running.id);
    await expect((async () => manager.pause(running.id))()).rejects.toThrow(
      /stop of this task is already in progress/,
    );
    await untilStatus(manager, running.id, ["STOPPED"]);
    await expect((async () => manager.stop(running.id))()).rejects.toThrow(/already ended/);
    const held = (await manager.create("echo", { value: 1 }, { paused: true })).task;
    await expect((async () => manager.pause(held.id))()).rejects.toThrow(/already PAUSED/);
    await expect((async () => manager.pause("no-such-id"))()).rejects.toThrow(/no task with id/);
  });
});

describe("parked workers", () => {
  test("a task paused and resumed many times keeps its worker and its stack", async () => {
    await env.close();
    env = await startManager({ concurrency: 2, maxParkedWorkers: 2 });
    const { manager } = env;
    const { task } = await manager.create("steps", { steps: 400, delayMs: 2 });
    await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 1);
    for (let i = 0; i < 6; i++) {
      await manager.pause(task.id);
      await untilStatus(manager, task.id, ["PAUSED"]);
      expect(manager.stats().parked).toBe(1);
      await manager.resume(task.id);
      await untilStatus(manager, task.id, ["RUNNING"]);
    }
    const done = await untilStatus(manager, task.id, ["FINISHED"]);
    // Never released: one uninterrupted run of run(), every step once.
    expect((done.result as { startedAt: number; ran: number[] }).ran).toEqual(
      Array.from({ length: 400 }, (_, i) => i),
    );
  });
});
