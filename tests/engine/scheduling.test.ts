import { afterEach, expect, test } from "bun:test";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function startOrder(manager: TestManager["manager"], ids: string[]): Promise<string[]> {
  const starts = await Promise.all(
    ids.map(async (id) => ({
      id,
      at: (await manager.events(id)).items.find((e) => e.action === "start")?.id ?? Number.POSITIVE_INFINITY,
    })),
  );
  return starts.sort((a, b) => a.at - b.at).map((entry) => entry.id);
}

test("queued tasks start by priority, then oldest first", async () => {
  env = await startManager({ concurrency: 1 });
  const { manager } = env;
  const blocker = (await manager.create("steps", { steps: 5, delayMs: 20 })).task;
  await untilStatus(manager, blocker.id, ["RUNNING"]);
  const low = (await manager.create("echo", { value: "low" }, { priority: 0 })).task;
  const high = (await manager.create("echo", { value: "high" }, { priority: 10 })).task;
  const lowToo = (await manager.create("echo", { value: "low 2" }, { priority: 0 })).task;
  const mid = (await manager.create("echo", { value: "mid" }, { priority: 5 })).task;
  const ids = [low.id, high.id, lowToo.id, mid.id];
  for (const id of ids) await untilStatus(manager, id, ["FINISHED"]);
  expect(await startOrder(manager, ids)).toEqual([high.id, mid.id, low.id, lowToo.id]);
});

test("a task name's concurrency limit holds while other names keep running", async () => {
  env = await startManager({ concurrency: 3 });
  const { manager } = env;
  let peak = 0;
  let running = 0;
  const unsubscribe = manager.subscribe((event) => {
    if (event.type !== "transition" || event.task.taskName !== "hold") return;
    if (event.to === "RUNNING") running++;
    if (event.from === "RUNNING") running--;
    peak = Math.max(peak, running);
  });
  const holds = await Promise.all(
    Array.from({ length: 3 }, async () => (await manager.create("hold", { ms: 60 })).task),
  );
  const echo = (await manager.create("echo", { value: 1 })).task;
  // The echo is not stuck behind the held name: it finishes while holds are still queued.
  await untilStatus(manager, echo.id, ["FINISHED"]);
  const holdStatuses = await Promise.all(holds.map(async (h) => (await manager.require(h.id)).status));
  expect(holdStatuses.filter((status) => status === "FINISHED").length).toBeLessThan(3);
  for (const h of holds) await untilStatus(manager, h.id, ["FINISHED"]);
  unsubscribe();
  expect(peak).toBe(1);
});

test("a task with runAt waits until then", async () => {
  env = await startManager({ concurrency: 2 });
  const { manager } = env;
  const runAt = Date.now() + 400;
  const { task } = await manager.create("echo", { value: 1 }, { runAt });
  await Bun.sleep(150);
  expect((await manager.require(task.id)).status).toBe("PENDING");
  const done = await untilStatus(manager, task.id, ["FINISHED"]);
  expect(done.startTime).toBeGreaterThanOrEqual(runAt);
});
