// The engine on the PostgreSQL store: the same lifecycle as on SQLite through the store port,
// with reads on other connections that see only what is committed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { FIXTURE_TASKS, statusPath, untilStatus } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  await database.drop();
});

async function startOn(url: string) {
  const store = new PostgresTaskStore({ url });
  const manager = new TaskManager({ store, concurrency: 2, stopGraceMs: 2_000, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  return {
    manager,
    stop: async () => {
      await manager.shutdown();
      await store.close();
    },
  };
}

test("tasks run, retry, pause, resume, stop and restart on PostgreSQL", async () => {
  const { manager, stop } = await startOn(database.url);
  try {
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => manager.submit("echo", { value: i })),
    );
    for (const { task } of burst) {
      expect((await untilStatus(manager, task.id, ["FINISHED"])).result).toEqual(task.params);
    }
    const flaky = (await manager.create("flaky", { succeedOn: 2 })).task;
    expect((await untilStatus(manager, flaky.id, ["FINISHED"])).result).toEqual({ attempt: 2 });
    expect(await statusPath(manager, flaky.id)).toEqual([
      "PENDING",
      "RUNNING",
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);

    const steps = (await manager.create("steps", { steps: 200, delayMs: 5 })).task;
    await manager.waitFor(steps.id, (t) => (t.progress?.done ?? 0) >= 2);
    expect((await manager.pause(steps.id)).pending).toBe(true);
    await untilStatus(manager, steps.id, ["PAUSED"]);
    expect((await manager.resume(steps.id)).task.status).toBe("PENDING");
    await untilStatus(manager, steps.id, ["RUNNING"]);
    expect((await manager.stop(steps.id)).pending).toBe(true);
    expect((await untilStatus(manager, steps.id, ["STOPPED"])).status).toBe("STOPPED");
    await expect(manager.stop(steps.id)).rejects.toThrow(/already ended/);
    expect((await manager.restart(steps.id)).task.status).toBe("PENDING");
    const again = await untilStatus(manager, steps.id, ["FINISHED"], 20_000);
    expect(again.attempt).toBe(2);
    expect((await manager.logs(steps.id, { limit: 500 })).items.length).toBeGreaterThan(0);
    expect((await manager.countByStatus()).FINISHED).toBe(32);
  } finally {
    await stop();
  }
}, 60_000);

test("a task paused at shutdown resumes from its checkpoint on the next start", async () => {
  const first = await startOn(database.url);
  const { task } = await first.manager.create("steps", { steps: 400, delayMs: 5 });
  await first.manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 3);
  await first.stop();
  const second = await startOn(database.url);
  try {
    const done = await untilStatus(second.manager, task.id, ["FINISHED"], 30_000);
    expect((done.result as { startedAt: number }).startedAt).toBeGreaterThan(0);
  } finally {
    await second.stop();
  }
}, 60_000);
