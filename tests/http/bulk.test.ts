// POST /tasks/bulk over real HTTP: every action, a result per task, the bound, bad bodies.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { BulkResult } from "../../src/index.ts";
import { untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.stop();
});

async function bulk(json: unknown): Promise<BulkResult> {
  const response = await server.call("/tasks/bulk", { json });
  if (response.status !== 200) throw new Error(`bulk answered ${response.status}: ${await response.text()}`);
  return body<BulkResult>(response);
}

/** A task that runs until told otherwise, once it is RUNNING. */
async function running(): Promise<string> {
  const { task } = await server.manager.create("steps", { steps: 100_000, delayMs: 20 });
  await untilStatus(server.manager, task.id, ["RUNNING"]);
  return task.id;
}

async function finished(): Promise<string> {
  const { task } = await server.manager.create("echo", { value: 1 });
  await untilStatus(server.manager, task.id, ["FINISHED"]);
  return task.id;
}

const paused = async (name = "echo", tags?: string[]) =>
  (await server.manager.create(name, { value: 1 }, { paused: true, ...(tags ? { tags } : {}) })).task.id;

const refused = (id: string, code: string, httpStatus: number) => ({
  id,
  ok: false,
  error: { code, httpStatus, message: expect.any(String) },
});

describe("each action by ids: legal tasks act, illegal ones are refused in their own result", () => {
  test("pause, resume, stop and restart, with who asked and why in each history", async () => {
    const live = await running();
    const done = await finished();
    const missing = "0190ffff-0000-7000-8000-000000000000";

    const pause = await bulk({ action: "pause", ids: [live, done, missing, live], reason: "maintenance" });
    // A repeated id counts once; the running task acknowledges at its checkpoint (a 202 alone).
    expect(pause).toEqual({
      action: "pause",
      results: [
        { id: live, ok: true, status: "RUNNING", requestedAction: "pause" },
        refused(done, "illegal_transition", 409),
        refused(missing, "task_not_found", 404),
      ],
      succeeded: 1,
      failed: 2,
      truncated: false,
      nextCursor: null,
    });
    expect(pause.results[1]).toMatchObject({
      error: { message: "cannot pause a FINISHED task: it has ended" },
    });
    await untilStatus(server.manager, live, ["PAUSED"]);
    const asked = (await server.manager.events(live)).items.find((event) => event.action === "pause");
    expect(asked).toMatchObject({ actor: "anonymous", source: "127.0.0.1", reason: "maintenance" });

    const resume = await bulk({ action: "resume", ids: [live, done] });
    expect(resume.results).toEqual([
      { id: live, ok: true, status: "PENDING", requestedAction: null },
      refused(done, "illegal_transition", 409),
    ]);
    await untilStatus(server.manager, live, ["RUNNING"]);

    const stop = await bulk({ action: "stop", ids: [done, live] });
    expect(stop.results).toEqual([
      refused(done, "illegal_transition", 409),
      { id: live, ok: true, status: "RUNNING", requestedAction: "stop" },
    ]);
    await untilStatus(server.manager, live, ["STOPPED"]);

    const restart = await bulk({ action: "restart", ids: [live, done] });
    expect(restart.results).toEqual([
      { id: live, ok: true, status: "PENDING", requestedAction: null },
      { id: done, ok: true, status: "PENDING", requestedAction: null },
    ]);
    expect((await server.manager.require(done)).attempt).toBe(2);
    await untilStatus(server.manager, done, ["FINISHED"]);
    await bulk({ action: "stop", ids: [live] });
  });

  test("delete removes ended tasks with their history and refuses live ones", async () => {
    const done = await finished();
    const waiting = await paused();
    const result = await bulk({ action: "delete", ids: [done, waiting] });
    expect(result.results).toEqual([{ id: done, ok: true }, refused(waiting, "illegal_transition", 409)]);
    expect(await server.manager.get(done)).toBeUndefined();
    expect((await server.manager.require(waiting)).status).toBe("PAUSED");
  });
});

describe("by filter", () => {
  test("restart every FAILED task of a name; the others stay as they are", async () => {
    const failed = await Promise.all(
      ["a", "b", "c"].map(async () => (await server.manager.create("fail", { where: "run" })).task.id),
    );
    for (const id of failed) await untilStatus(server.manager, id, ["FAILED"]);
    const other = await finished();
    const result = await bulk({ action: "restart", filter: { status: "FAILED", name: "fail" } });
    // Newest first, like GET /tasks.
    expect(result.results.map((item) => item.id)).toEqual(failed.toReversed());
    expect(result.results.every((item) => item.ok)).toBe(true);
    for (const id of failed) expect((await server.manager.require(id)).attempt).toBe(2);
    expect((await server.manager.require(other)).attempt).toBe(1);
  });

  test("without a status, a filter picks what the action applies to: delete takes the ended tasks only", async () => {
    const done = await finished();
    const waiting = await paused("echo", ["batch"]);
    const tagged = await paused("echo", ["batch"]);
    const result = await bulk({ action: "delete", filter: { name: "echo" } });
    expect(result.results).toEqual([{ id: done, ok: true }]);
    expect((await server.manager.require(waiting)).status).toBe("PAUSED");

    const stop = await bulk({ action: "stop", filter: { tag: "batch" } });
    expect(stop.results.map((item) => [item.id, item.ok])).toEqual([
      [tagged, true],
      [waiting, true],
    ]);
    expect((await server.manager.require(waiting)).status).toBe("STOPPED");
  });

  test("with a status the action does not apply to, each task is refused (409) in its result", async () => {
    const waiting = await paused();
    const result = await bulk({ action: "pause", filter: { status: "PAUSED" } });
    expect(result.results).toEqual([refused(waiting, "illegal_transition", 409)]);
    expect(result).toMatchObject({ succeeded: 0, failed: 1 });
  });

  test("a filter that matches more than 1,000 tasks acts on the newest 1,000 and gives a cursor for the rest", async () => {
    const ids = await Promise.all(
      Array.from({ length: 1_001 }, () =>
        server.manager.submit("echo", { value: 1 }, { paused: true, tags: ["many"] }).then((r) => r.task.id),
      ),
    );
    const newestFirst = ids.toSorted().toReversed();
    const first = await bulk({ action: "stop", filter: { tag: "many" } });
    expect(first.results.length).toBe(1_000);
    expect(first.results.map((item) => item.id)).toEqual(newestFirst.slice(0, 1_000));
    expect(first).toMatchObject({
      succeeded: 1_000,
      failed: 0,
      truncated: true,
      nextCursor: newestFirst[999],
    });

    const rest = await bulk({ action: "stop", filter: { tag: "many" }, cursor: first.nextCursor });
    expect(rest.results).toEqual([
      { id: newestFirst[1_000] as string, ok: true, status: "STOPPED", requestedAction: null },
    ]);
    expect(rest).toMatchObject({ truncated: false, nextCursor: null });
    expect((await server.manager.list({ tag: "many", status: "STOPPED", limit: 500 })).items.length).toBe(
      500,
    );
    const counts = await server.manager.countByStatus();
    expect(counts.STOPPED).toBe(1_001);
  });
});

describe("bad bodies are a 422 that says what is wrong", () => {
  const cases: Array<[string, unknown, string]> = [
    [
      "no target",
      { action: "pause" },
      "invalid body: give ids (the tasks to act on) or filter (which tasks: status, name, tag)",
    ],
    [
      "both targets",
      { action: "pause", ids: ["x"], filter: {} },
      "invalid body: give either ids or filter, not both",
    ],
    [
      "unknown action",
      { action: "explode", ids: ["x"] },
      'invalid body: "action" must be one of: pause, resume, stop, restart, delete',
    ],
    ["no action", { ids: ["x"] }, 'invalid body: "action" is required'],
    ["ids not a list", { action: "stop", ids: "x" }, 'invalid body: "ids" is invalid: expected array'],
    [
      "empty ids",
      { action: "stop", ids: [] },
      'invalid body: "ids" is invalid: expected array length to be greater or equal to 1',
    ],
    [
      "a bad status",
      { action: "stop", filter: { status: "DONE" } },
      'invalid body: "filter.status" must be one of: PENDING, RUNNING, PAUSED, FINISHED, FAILED, STOPPED',
    ],
    [
      "a field filter does not know",
      { action: "stop", filter: { owner: "me" } },
      'invalid body: "filter.owner" is not an allowed field',
    ],
    [
      "a field the body does not know",
      { action: "stop", ids: ["x"], force: true },
      'invalid body: "force" is not an allowed field (allowed: action, ids, reason, filter, cursor)',
    ],
    [
      "cursor with ids",
      { action: "stop", ids: ["x"], cursor: "x" },
      "invalid body: cursor goes with filter, not with ids",
    ],
    ["not an object", ["pause"], "invalid body: the body must be a JSON object"],
    [
      "more than 1,000 ids",
      { action: "stop", ids: Array.from({ length: 1_001 }, (_, i) => `id-${i}`) },
      'invalid body: "ids" is invalid: expected array length to be less or equal to 1000',
    ],
  ];
  for (const [what, json, message] of cases) {
    test(what, async () => {
      const response = await server.call("/tasks/bulk", { json });
      expect(response.status).toBe(422);
      const { error } = await body<ApiError>(response);
      expect(error.code).toBe("validation");
      expect(error.message).toBe(message);
    });
  }

  test("a body that is not JSON is a 400", async () => {
    const response = await server.call("/tasks/bulk", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{action:",
    });
    expect(response.status).toBe(400);
    expect((await body<ApiError>(response)).error.code).toBe("bad_request");
  });
});

test("the manager itself refuses more than 1,000 ids (a library caller has no HTTP schema)", async () => {
  const ids = Array.from({ length: 1_001 }, (_, i) => `id-${i}`);
  await expect(server.manager.bulk("stop", { ids })).rejects.toThrow(
    "a bulk call acts on at most 1000 tasks; 1001 ids were given",
  );
  // The same id twice is one task.
  const result = await server.manager.bulk("stop", { ids: [...ids.slice(0, 999), "id-0", "id-1"] });
  expect(result.results.length).toBe(999);
});
