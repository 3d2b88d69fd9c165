import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

const RESTART_TASKS = new URL("../fixtures/restart-tasks.ts", import.meta.url);

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 2 });
  await env.manager.load(RESTART_TASKS);
});
afterEach(async () => {
  await env.close();
});

/** The task's runs so far: one "start" event each. */
async function runsOf(id: string): Promise<number> {
  return (await env.manager.events(id, { limit: 500 })).items.filter((event) => event.action === "start")
    .length;
}

describe("a task that restarts itself", () => {
  test("forever: its restarts back off, so the runs slow down instead of spinning", async () => {
    const { task } = await env.manager.create("self-restart", {});
    // Count the runs in a 3 s window that starts with the first run.
    await env.manager.waitFor(task.id, (t) => t.status === "RUNNING");
    const started = performance.now();
    await Bun.sleep(3_000);
    const runs = await runsOf(task.id);
    const elapsed = performance.now() - started;
    // Without backoff this was hundreds of runs (167 here, 2,030 in 3 s against the binary).
    // The n-th restart in a row waits at least half of 0.1 s × 2^(n-1) (equal jitter), so the
    // k-th run starts no sooner than the sum of those: however fast the machine, no more runs
    // fit in the time that passed than this allows.
    const earliestStarts = [0, 50, 150, 350, 750, 1_550, 3_150, 6_350, 12_750];
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(earliestStarts.filter((at) => at <= elapsed).length);
    // The delay is written where an operator sees it: the task waits as PENDING with a runAt.
    const events = (await env.manager.events(task.id, { limit: 500 })).items.filter(
      (e) => e.action === "restart",
    );
    expect(events.at(-1)?.reason).toMatch(
      /^going round again \(restart \d+ in a row asked by the task; runs again in \d+ ms\)$/,
    );
  });

  test("once: the run after it starts at once and finishes", async () => {
    const { task } = await env.manager.create("restart-once", {});
    const done = await untilStatus(env.manager, task.id, ["FINISHED"]);
    expect(done.result).toEqual({ attempt: 2 });
  });

  test("an operator's restart is not delayed by the task's own restarts", async () => {
    const { task } = await env.manager.create("self-restart", {});
    const deadline = Date.now() + 15_000;
    while ((await runsOf(task.id)) < 3) {
      if (Date.now() > deadline) throw new Error("the task did not restart itself 3 times within 15 s");
      await Bun.sleep(20);
    }
    // Refused (409) while the task's own restart waits for its checkpoint; accepted otherwise.
    for (let stopped = false; !stopped; ) {
      try {
        await env.manager.stop(task.id);
        stopped = true;
      } catch {
        await Bun.sleep(5);
      }
    }
    await untilStatus(env.manager, task.id, ["STOPPED"]);
    const asked = performance.now();
    await env.manager.restart(task.id);
    await env.manager.waitFor(task.id, (t) => t.status === "RUNNING");
    // The streak is over: this run starts as soon as a slot is free, not after a backoff.
    expect(performance.now() - asked).toBeLessThan(2_000);
    expect((await env.manager.get(task.id))?.runAt ?? null).toBeNull();
  });
});
