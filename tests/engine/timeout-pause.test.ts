import { afterEach, beforeEach, expect, test } from "bun:test";
import type { TaskError } from "../../src/index.ts";
import { startManager, statusPath, type TestManager, untilStatus } from "../helpers.ts";

let env: TestManager;
beforeEach(async () => {
  env = await startManager({ concurrency: 2 });
});
afterEach(async () => {
  await env.close();
});

// README, "The task lifecycle": a timeout that fires while a pause is pending wins. The run is
// ended as timed out, the task follows its retry policy, and the history names the pause.
test("a timeout while a pause is pending ends the run as timed out, retries it, and says so", async () => {
  const { manager } = env;
  const { task } = await manager.create("rare-checkpoint", {});
  // Past its only early checkpoint: the pause cannot be acknowledged before the timeout.
  await manager.waitFor(task.id, (t) => t.progress?.message === "past its first checkpoint");
  const request = await manager.pause(task.id, { actor: "test", reason: "for the night" });
  expect(request.pending).toBe(true);

  // Two attempts (retry.attempts = 2): the first times out with the pause pending, the second
  // times out on its own.
  const failed = await untilStatus(manager, task.id, ["FAILED", "PAUSED"]);
  expect(failed.status).toBe("FAILED");
  expect(failed.attempt).toBe(2);
  expect((failed.error as TaskError).name).toBe("TimeoutError");
  expect((failed.error as TaskError).message).toBe("timed out after 1000 ms");
  expect(await statusPath(manager, task.id)).toEqual(["PENDING", "RUNNING", "PENDING", "RUNNING", "FAILED"]);

  const events = (await manager.events(task.id, { limit: 100 })).items;
  const asked = events.find((e) => e.action === "pause");
  expect(asked?.toStatus).toBeNull();
  expect(asked?.actor).toBe("test");
  const retry = events.find((e) => e.action === "retry");
  expect(retry?.reason).toContain("after TimeoutError: timed out after 1000 ms while a pause was pending");
});
