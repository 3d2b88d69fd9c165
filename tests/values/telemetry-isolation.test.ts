// Progress, logs and checkpoint states of all running tasks share one transaction per tick. One
// task's bad entry (an unknown log level, a state with a BigInt or a cycle, NaN progress) used to
// fail that transaction, and a healthy task beside it lost every line it logged meanwhile.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Careless } from "../fixtures/value-tasks.ts";
import { untilStatus } from "../helpers.ts";
import { startServer, type TestServer } from "../http/server.ts";
import { ALL_OK } from "./serve-values.ts";

const VALUE_TASKS = new URL("../fixtures/value-tasks.ts", import.meta.url);

let server: TestServer;
beforeEach(async () => {
  server = await startServer({ concurrency: 2, telemetryIntervalMs: 50 });
  await server.manager.load(VALUE_TASKS);
});
afterEach(async () => {
  await server.stop();
});

async function views(id: string): Promise<Record<string, number>> {
  const paths = {
    task: `/tasks/${id}`,
    events: `/tasks/${id}/events`,
    logs: `/tasks/${id}/logs`,
    list: "/tasks",
  };
  const statuses: Record<string, number> = {};
  for (const [view, path] of Object.entries(paths)) statuses[view] = (await server.call(path)).status;
  return statuses;
}

const CASES: Array<[Careless, "FINISHED" | "FAILED"]> = [
  ["log-level", "FINISHED"],
  ["nan-progress", "FINISHED"],
  ["bigint-state", "FAILED"],
  ["cycle-state", "FAILED"],
];

describe("a careless task beside a healthy one", () => {
  test.each(CASES)(
    "%s: the healthy task keeps all 40 log lines, its progress and its state",
    async (mistake, ends) => {
      const { manager } = server;
      const careless = (await manager.create("careless", { mistake, times: 60, delayMs: 4 })).task;
      const healthy = (await manager.create("steps", { steps: 40, delayMs: 4 })).task;
      const [bad, good] = await Promise.all([
        untilStatus(manager, careless.id, ["FINISHED", "FAILED"]),
        untilStatus(manager, healthy.id, ["FINISHED", "FAILED"]),
      ]);
      expect(good.status).toBe("FINISHED");
      const lines = (await manager.logs(healthy.id, { limit: 500 })).items.map((line) => line.message);
      expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `step ${i}`));
      expect(good.progress).toEqual({ done: 40, total: 40, message: "step 40" });
      expect(good.checkpoint).toEqual({ next: 39 });

      expect(bad.status).toBe(ends);
      // Nothing the careless task got wrong was stored.
      expect((await manager.logs(careless.id)).items).toEqual([]);
      expect(bad.progress).toBeNull();
      if (ends === "FAILED") {
        expect((bad.error as { name: string }).name).toBe("TaskValueError");
        expect(bad.checkpoint).toBeNull();
      }
      expect(await views(careless.id)).toEqual(ALL_OK);
    },
  );
});
