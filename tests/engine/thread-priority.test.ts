import { afterEach, expect, test } from "bun:test";
import { threadNice } from "../fixtures/tasks.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

const managers: TestManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

test.skipIf(process.platform !== "linux")(
  "task workers run 10 nice levels below the main thread, which keeps its own",
  async () => {
    const before = threadNice();
    const m = await startManager();
    managers.push(m);
    const task = (await m.manager.create("thread-nice", null)).task;
    const done = await untilStatus(m.manager, task.id, ["FINISHED", "FAILED"]);
    expect(done.status).toBe("FINISHED");
    expect(done.result).toEqual({ nice: Math.min(19, before + 10) });
    expect(threadNice()).toBe(before);
  },
);
