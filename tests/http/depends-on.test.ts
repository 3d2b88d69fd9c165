import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
let store: StoreOptions;

interface TaskDetail extends TaskJson {
  dependsOn: string[];
  waitingFor: string[];
  children: { total: number; ended: number; counts: Record<string, number> };
}

describe.each(STORE_KINDS)("dependsOn on %s", (kind) => {
  beforeEach(async () => {
    store = await makeStoreOptions(kind);
    server = await startServer(store.options);
  });
  afterEach(async () => {
    try {
      await server.stop();
    } finally {
      await store.close();
    }
  });

  const create = async (json: Record<string, unknown>) => {
    const response = await server.call("/tasks", { json });
    return { status: response.status, task: await body<TaskJson>(response) };
  };
  const read = async (id: string) => body<TaskDetail>(await server.call(`/tasks/${id}`));

  test("a task waits PENDING, saying for what, until every dependency finished, then runs", async () => {
    const first = await create({ name: "steps", params: { steps: 30, delayMs: 20 } });
    // Held PAUSED until the second has finished, whatever order the workers take them in.
    // 200 when it was still PENDING, 202 when it was running and pauses at its next checkpoint.
    expect([200, 202]).toContain(
      (await server.call(`/tasks/${first.task.id}/pause`, { method: "POST" })).status,
    );
    await untilStatus(server.manager, first.task.id, ["PAUSED"]);
    const second = await create({ name: "steps", params: { steps: 5, delayMs: 20 } });
    const dependent = await create({
      name: "echo",
      params: { value: "after" },
      dependsOn: [first.task.id, second.task.id],
    });
    expect(dependent.status).toBe(201);
    expect(dependent.task.status).toBe("PENDING");
    expect(dependent.task.awaiting).toBe("dependencies");
    expect(dependent.task.onDependencyFailure).toBe("fail");
    expect(dependent.task.statusReason).toContain("waiting for");

    const waiting = await read(dependent.task.id);
    expect(waiting.dependsOn.sort()).toEqual([first.task.id, second.task.id].sort());
    expect(waiting.status).toBe("PENDING");

    await untilStatus(server.manager, second.task.id, ["FINISHED"]);
    // The dependents are examined once the dependency's end is committed: a moment later.
    const expected = `waiting for 1 of 2 dependencies: ${first.task.id}`;
    let stillWaiting = await read(dependent.task.id);
    for (let i = 0; i < 500 && stillWaiting.statusReason !== expected; i++) {
      await Bun.sleep(20);
      stillWaiting = await read(dependent.task.id);
    }
    expect(`${stillWaiting.status} ${stillWaiting.statusReason}`).toBe(`PENDING ${expected}`);
    // Still held while the first is paused; it goes once that one finished.
    await Bun.sleep(200);
    expect((await read(dependent.task.id)).status).toBe("PENDING");
    expect((await server.call(`/tasks/${first.task.id}/resume`, { method: "POST" })).status).toBe(200);

    await untilStatus(server.manager, dependent.task.id, ["FINISHED"]);
    const done = await read(dependent.task.id);
    expect(done.result).toEqual({ value: "after" });
    const firstDone = await read(first.task.id);
    // It started only once the last dependency had finished.
    expect(Date.parse(done.startTime ?? "")).toBeGreaterThanOrEqual(Date.parse(firstDone.endTime ?? ""));
  });

  test("a dependency already finished lets the task run at once", async () => {
    const first = await create({ name: "echo", params: { value: 1 } });
    await untilStatus(server.manager, first.task.id, ["FINISHED"]);
    const dependent = await create({ name: "echo", params: { value: 2 }, dependsOn: [first.task.id] });
    expect(dependent.task.awaiting).toBeNull();
    await untilStatus(server.manager, dependent.task.id, ["FINISHED"]);
  });

  test('a failed dependency fails the dependent ("fail"), stops it ("stop"), or runs it ("run")', async () => {
    const failing = await create({ name: "fail", params: { where: "run" } });
    const fails = await create({ name: "echo", params: { value: 1 }, dependsOn: [failing.task.id] });
    const stops = await create({
      name: "echo",
      params: { value: 2 },
      dependsOn: [failing.task.id],
      onDependencyFailure: "stop",
    });
    const runs = await create({
      name: "echo",
      params: { value: 3 },
      dependsOn: [failing.task.id],
      onDependencyFailure: "run",
    });
    await untilStatus(server.manager, fails.task.id, ["FAILED"]);
    await untilStatus(server.manager, stops.task.id, ["STOPPED"]);
    await untilStatus(server.manager, runs.task.id, ["FINISHED"]);
    const failed = await read(fails.task.id);
    expect(failed.statusReason).toContain(failing.task.id);
    expect(failed.error).toMatchObject({ name: "DependencyFailed" });
    expect(failed.startTime).toBeNull();
    expect((await read(stops.task.id)).statusReason).toContain('onDependencyFailure "stop"');
  });

  test("a chain fails down its length, and a stopped dependency counts as not finished", async () => {
    const head = await create({ name: "steps", params: { steps: 500, delayMs: 10 } });
    const middle = await create({ name: "echo", params: { value: 1 }, dependsOn: [head.task.id] });
    const tail = await create({ name: "echo", params: { value: 2 }, dependsOn: [middle.task.id] });
    await untilStatus(server.manager, head.task.id, ["RUNNING"]);
    const stop = await server.call(`/tasks/${head.task.id}/stop?wait=5000`, { method: "POST" });
    expect(stop.status).toBe(200);
    await untilStatus(server.manager, middle.task.id, ["FAILED"]);
    await untilStatus(server.manager, tail.task.id, ["FAILED"]);
    expect((await read(tail.task.id)).statusReason).toContain(middle.task.id);
  });

  test("unknown ids, a repeated id and a bad policy are 422s naming the field", async () => {
    const known = await create({ name: "echo", params: { value: 1 } });
    const unknown = await server.call("/tasks", {
      json: { name: "echo", params: { value: 1 }, dependsOn: [known.task.id, "no-such-task"] },
    });
    expect(unknown.status).toBe(422);
    const unknownError = await body<ApiError>(unknown);
    expect(unknownError.error.message).toContain("no-such-task");
    expect(JSON.stringify(unknownError.error.details)).toContain("dependsOn");

    const repeated = await server.call("/tasks", {
      json: { name: "echo", params: { value: 1 }, dependsOn: [known.task.id, known.task.id] },
    });
    expect(repeated.status).toBe(422);
    expect((await body<ApiError>(repeated)).error.message).toContain("more than once");

    const policy = await server.call("/tasks", {
      json: { name: "echo", params: { value: 1 }, dependsOn: [known.task.id], onDependencyFailure: "maybe" },
    });
    expect(policy.status).toBe(422);

    const notArray = await server.call("/tasks", {
      json: { name: "echo", params: { value: 1 }, dependsOn: "x" },
    });
    expect(notArray.status).toBe(422);
  });

  test("a restarted dependent waits for its dependencies again", async () => {
    const head = await create({ name: "fail", params: { where: "run" } });
    const dependent = await create({ name: "echo", params: { value: 1 }, dependsOn: [head.task.id] });
    await untilStatus(server.manager, dependent.task.id, ["FAILED"]);
    const restart = await server.call(`/tasks/${dependent.task.id}/restart`, { method: "POST" });
    expect(restart.status).toBe(200);
    // Its dependency is still FAILED: the new attempt fails the same way, without a run.
    await untilStatus(server.manager, dependent.task.id, ["FAILED"]);
    const again = await read(dependent.task.id);
    expect(again.attempt).toBe(2);
    expect(again.startTime).toBeNull();
  });
});
