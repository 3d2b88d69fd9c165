import { afterEach, describe, expect, test } from "bun:test";
import { createServiceLogger } from "../../src/cli/log.ts";
import { logTaskTransitions } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";

interface JsonLine {
  level: string;
  msg: string;
  taskId?: string;
  name?: string;
  attempt?: number;
  status?: string;
  durationMs?: number;
  error?: string;
  reason?: string;
  retryAt?: string;
  actor?: string;
}

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** A manager whose task lines go through the service's JSON logger into `lines`. */
async function managerWithTaskLines(level: "info" | "warn" = "info") {
  const lines: JsonLine[] = [];
  const logger = createServiceLogger(level, "json", (line) => lines.push(JSON.parse(line) as JsonLine));
  env = await startManager({ concurrency: 2 });
  env.manager.onTransition(logTaskTransitions(logger));
  const of = (id: string) => lines.filter((line) => line.taskId === id);
  return { manager: env.manager, lines, of };
}

describe("task lines in the service log", () => {
  test("created, started and finished at info, each with id, name, attempt and duration", async () => {
    const { manager, of } = await managerWithTaskLines();
    const { task } = await manager.create("echo", { value: 1 });
    await untilStatus(manager, task.id, ["FINISHED"]);
    await Bun.sleep(0);
    const lines = of(task.id);
    expect(lines.map((line) => [line.level, line.msg, line.status])).toEqual([
      ["info", "task created", "PENDING"],
      ["info", "task started", "RUNNING"],
      ["info", "task finished", "FINISHED"],
    ]);
    for (const line of lines) expect(line).toMatchObject({ taskId: task.id, name: "echo", attempt: 1 });
    expect(lines[0]?.durationMs).toBeUndefined();
    expect(lines[1]?.durationMs).toBe(0);
    expect(lines[2]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  test("a failure is a warning with its error; a retry says when it runs again", async () => {
    const { manager, of } = await managerWithTaskLines();
    const failed = (await manager.create("fail", { where: "run" })).task;
    const flaky = (await manager.create("flaky", { succeedOn: 2 })).task;
    await untilStatus(manager, failed.id, ["FAILED"]);
    await untilStatus(manager, flaky.id, ["FINISHED"]);
    await Bun.sleep(0);
    const failure = of(failed.id).find((line) => line.msg === "task failed");
    expect(failure).toMatchObject({
      level: "warn",
      status: "FAILED",
      error: "Error: failed in run",
      attempt: 1,
    });
    expect(failure?.durationMs).toBeGreaterThanOrEqual(0);
    const retried = of(flaky.id).find((line) => line.msg === "task retried");
    expect(retried).toMatchObject({ level: "info", status: "PENDING", attempt: 2 });
    expect(retried?.reason).toContain("attempt 1 fails");
    expect(Date.parse(retried?.retryAt ?? "")).toBeGreaterThan(0);
    expect(of(flaky.id).map((line) => line.msg)).toEqual([
      "task created",
      "task started",
      "task retried",
      "task started",
      "task finished",
    ]);
  });

  test("paused, resumed and stopped name who asked", async () => {
    const { manager, of } = await managerWithTaskLines();
    const { task } = await manager.create("steps", { steps: 10_000, delayMs: 5 });
    await untilStatus(manager, task.id, ["RUNNING"]);
    await manager.pause(task.id, { actor: "admin", reason: "maintenance" });
    await untilStatus(manager, task.id, ["PAUSED"]);
    await manager.resume(task.id, { actor: "admin" });
    await untilStatus(manager, task.id, ["RUNNING"]);
    await manager.stop(task.id, { actor: "read-1" });
    await untilStatus(manager, task.id, ["STOPPED"]);
    await Bun.sleep(0);
    const lines = of(task.id);
    expect(lines.map((line) => line.msg)).toEqual([
      "task created",
      "task started",
      "task paused",
      "task resumed",
      "task started",
      "task stopped",
    ]);
    expect(lines[2]).toMatchObject({ actor: "admin", reason: "maintenance", status: "PAUSED" });
    expect(lines[5]).toMatchObject({ actor: "read-1", status: "STOPPED" });
    expect(lines[5]?.durationMs).toBeGreaterThan(0);
  });

  test("at --log-level warn only failures remain", async () => {
    const { manager, lines } = await managerWithTaskLines("warn");
    const ok = (await manager.create("echo", { value: 1 })).task;
    const bad = (await manager.create("fail", { where: "pre" })).task;
    await untilStatus(manager, ok.id, ["FINISHED"]);
    await untilStatus(manager, bad.id, ["FAILED"]);
    await Bun.sleep(0);
    expect(lines.map((line) => [line.msg, line.taskId])).toEqual([["task failed", bad.id]]);
  });
});
