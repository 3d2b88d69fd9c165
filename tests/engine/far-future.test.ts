import { afterEach, expect, test } from "bun:test";
import { startManager, type TestManager } from "../helpers.ts";

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
});

test("a task due beyond setTimeout's range (24.8 days) does not make the scheduler spin", async () => {
  // Found by the HTTP fuzz suite: the due timer overflowed to 1 ms and re-armed itself forever.
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  try {
    env = await startManager();
    const inAYear = Date.now() + 365 * 24 * 3_600_000;
    const { task } = await env.manager.create("echo", { value: 1 }, { runAt: inAYear });
    await Bun.sleep(300);
    expect(warnings.filter((name) => name === "TimeoutOverflowWarning")).toEqual([]);
    expect((await env.manager.get(task.id))?.status).toBe("PENDING");
    expect(env.manager.stats().queued).toBe(1);
  } finally {
    process.off("warning", onWarning);
  }
});
