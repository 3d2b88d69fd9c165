// What a task's numbers say once it runs: progress at its end, time actually running, and the
// workers it holds while paused.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { body, startServer, type TestServer } from "./server.ts";

const CONTEXT_TASKS = new URL("../fixtures/context-tasks.ts", import.meta.url);
/** A steps task that runs until it is stopped. */
const ENDLESS = { steps: 1_000_000, delayMs: 20 };

let server: TestServer;
beforeEach(async () => {
  server = await startServer({ concurrency: 2 });
  await server.manager.load(CONTEXT_TASKS);
});
afterEach(async () => {
  await server.stop();
});

async function read(id: string): Promise<TaskJson> {
  const response = await server.call(`/tasks/${id}`);
  expect(response.status).toBe(200);
  return body<TaskJson>(response);
}

async function control(id: string, action: string, query = ""): Promise<TaskJson> {
  const response = await server.call(`/tasks/${id}/${action}${query}`, { method: "POST" });
  expect(response.status).toBe(200);
  return (await body<{ task: TaskJson }>(response)).task;
}

/** Polls `probe` until it returns something other than undefined (20 s at most). */
async function pollFor<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("the condition did not hold within 20 s");
    await Bun.sleep(20);
  }
}

/** The value of one sample line of /metrics, e.g. `kiln_workers{state="busy"}`. */
function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("progress at the end", () => {
  test("a task that finishes shows 100 % when it reported a total, though its last report was lower", async () => {
    const { task } = await server.manager.create("progress-before-step", { steps: 4, total: true });
    await untilStatus(server.manager, task.id, ["FINISHED"]);
    expect((await read(task.id)).progress).toEqual({ done: 4, total: 4, percent: 100, message: "step 4" });
  });

  test("the total of an earlier run counts too: a task resumed on a new worker that reports nothing more", async () => {
    // No parked workers: a pause gives the worker back, and the resume is a new run from the saved state.
    const other = await startServer({ concurrency: 1, maxParkedWorkers: 0 });
    try {
      await other.manager.load(CONTEXT_TASKS);
      const { task } = await other.manager.create("progress-once", {});
      await other.manager.waitFor(task.id, (current) => current.progress?.done === 1);
      await other.manager.pause(task.id);
      await untilStatus(other.manager, task.id, ["PAUSED"]);
      await other.manager.resume(task.id);
      await untilStatus(other.manager, task.id, ["FINISHED"]);
      const response = await other.call(`/tasks/${task.id}`);
      expect((await body<TaskJson>(response)).progress).toEqual({
        done: 4,
        total: 4,
        percent: 100,
        message: "first run",
      });
      const starts = (await other.manager.events(task.id)).items.filter(
        (event) => event.toStatus === "RUNNING",
      );
      expect(starts.map((event) => event.action)).toEqual(["start", "start"]);
    } finally {
      await other.stop();
    }
  });

  test("a progress without a total is left as reported", async () => {
    const { task } = await server.manager.create("progress-before-step", { steps: 4, total: false });
    await untilStatus(server.manager, task.id, ["FINISHED"]);
    expect((await read(task.id)).progress).toEqual({
      done: 3,
      total: null,
      percent: null,
      message: "step 4",
    });
  });

  test("a task that is stopped keeps the progress it reached", async () => {
    const { task } = await server.manager.create("steps", ENDLESS);
    await server.manager.waitFor(task.id, (current) => (current.progress?.done ?? 0) >= 2);
    await control(task.id, "stop", "?wait=10000");
    const stopped = await read(task.id);
    expect(stopped.status).toBe("STOPPED");
    expect(stopped.progress?.done).toBeLessThan(ENDLESS.steps);
  });
});

describe("activeMs", () => {
  test("counts the time running, not the time paused: pause, wait, resume", async () => {
    const { task } = await server.manager.create("steps", { steps: 40, delayMs: 25 });
    await server.manager.waitFor(task.id, (current) => (current.progress?.done ?? 0) >= 5);
    expect((await read(task.id)).activeMs).toBeGreaterThan(0); // grows while RUNNING

    const paused = await control(task.id, "pause", "?wait=10000");
    expect(paused.status).toBe("PAUSED");
    await Bun.sleep(1_500);
    const stillPaused = await read(task.id);
    expect(stillPaused.status).toBe("PAUSED");
    expect(stillPaused.activeMs).toBe(paused.activeMs); // does not grow while PAUSED
    await control(task.id, "resume");
    await untilStatus(server.manager, task.id, ["FINISHED"]);

    const done = await read(task.id);
    const wall = done.durationMs ?? 0;
    // 40 sleeps of 25 ms ran, so at least ~1 s of running time, and the 1.5 s pause is not in it.
    expect(done.activeMs).toBeGreaterThanOrEqual(900);
    expect(wall - done.activeMs).toBeGreaterThanOrEqual(1_400);
    expect(wall).toBe(Date.parse(done.endTime ?? "") - Date.parse(done.startTime ?? ""));

    const restarted = await control(task.id, "restart");
    expect(restarted).toMatchObject({ status: "PENDING", activeMs: 0, durationMs: null });
  });
});

describe("workers", () => {
  test("a paused task's worker counts as parked, not busy, in /stats and /metrics", async () => {
    const { manager } = server;
    const first = (await manager.create("steps", ENDLESS)).task;
    const second = (await manager.create("steps", ENDLESS)).task;
    await untilStatus(manager, first.id, ["RUNNING"]);
    await untilStatus(manager, second.id, ["RUNNING"]);
    expect((await control(first.id, "pause", "?wait=10000")).status).toBe("PAUSED");
    // The slot it freed goes to a third task, on a third worker: the paused one keeps its own.
    const third = (await manager.create("steps", ENDLESS)).task;
    await untilStatus(manager, third.id, ["RUNNING"]);
    expect(manager.stats()).toMatchObject({ running: 2, parked: 1, workers: 3, idleWorkers: 0 });

    const stats = await body<{ workers: unknown; concurrency: number }>(await server.call("/stats"));
    expect(stats.workers).toEqual({ busy: 2, idle: 0, parked: 1 });
    const metrics = await (await server.call("/metrics")).text();
    expect(sampleValue(metrics, 'kiln_workers{state="busy"}')).toBe(2);
    expect(sampleValue(metrics, 'kiln_workers{state="idle"}')).toBe(0);
    expect(sampleValue(metrics, 'kiln_workers{state="parked"}')).toBe(1);

    // Stopped, the paused task gives its worker back: parked no more.
    await control(first.id, "stop");
    await server.manager.waitFor(first.id, () => manager.stats().parked === 0);
    const after = await body<{ workers: { busy: number; idle: number; parked: number } }>(
      await server.call("/stats"),
    );
    expect(after.workers.parked).toBe(0);
  });

  test("a paused task whose task process dies is parked no more, and stays PAUSED", async () => {
    const { manager } = server;
    await manager.load(new URL("../fixtures/memory-tasks.ts", import.meta.url));
    const { task } = await manager.create("process-steps", ENDLESS);
    const pidLine = await pollFor(async () =>
      (await manager.logs(task.id)).items.find((line) => line.message.startsWith("pid ")),
    );
    expect((await control(task.id, "pause", "?wait=10000")).status).toBe("PAUSED");
    expect(manager.stats().parked).toBe(1);

    process.kill(Number(pidLine.message.slice("pid ".length)), "SIGKILL");
    await pollFor(() => manager.stats().parked === 0 || undefined);
    const stats = await body<{ workers: { parked: number } }>(await server.call("/stats"));
    expect(stats.workers.parked).toBe(0);
    expect((await read(task.id)).status).toBe("PAUSED");
  });
});
