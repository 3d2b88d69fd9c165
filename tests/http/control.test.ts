import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { statusPath, untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

interface ControlAnswer {
  task: TaskJson;
  requestedAction?: string;
}

let server: TestServer;
let store: StoreOptions;

describe.each(STORE_KINDS)("on %s", (kind) => {
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

  const post = (path: string, json?: unknown) =>
    json === undefined ? server.call(path, { method: "POST" }) : server.call(path, { json });

  describe("pause, resume, stop", () => {
    test("pause of a RUNNING task is 202 until its checkpoint; resume is 200; stop ends it", async () => {
      const { manager } = server;
      const { task } = await manager.create("steps", { steps: 500, delayMs: 10 });
      await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) >= 2);

      const pause = await post(`/tasks/${task.id}/pause`, { reason: "looking" });
      expect(pause.status).toBe(202);
      const pending = await body<ControlAnswer>(pause);
      expect(pending.requestedAction).toBe("pause");
      expect(pending.task.requestedAction).toBe("pause");
      expect(pending.task.status).toBe("RUNNING");
      await untilStatus(manager, task.id, ["PAUSED"]);
      const paused = await body<TaskJson>(await server.call(`/tasks/${task.id}`));
      expect(paused.status).toBe("PAUSED");
      expect(paused.requestedAction).toBeNull();

      const resume = await post(`/tasks/${task.id}/resume`);
      expect(resume.status).toBe(200);
      const resumed = await body<ControlAnswer>(resume);
      expect(resumed.task.status).toBe("PENDING");
      expect(resumed.requestedAction).toBeUndefined();
      await untilStatus(manager, task.id, ["RUNNING"]);

      const stop = await post(`/tasks/${task.id}/stop?wait=5000`, { reason: "enough" });
      expect(stop.status).toBe(200);
      expect((await body<ControlAnswer>(stop)).task.status).toBe("STOPPED");
      expect(await statusPath(manager, task.id)).toEqual([
        "PENDING",
        "RUNNING",
        "PAUSED",
        "PENDING",
        "RUNNING",
        "STOPPED",
      ]);
      const pauseEvent = (await manager.events(task.id)).items.find((event) => event.toStatus === "PAUSED");
      expect(pauseEvent).toMatchObject({ actor: "anonymous", source: "127.0.0.1", reason: "looking" });
    });

    test("?wait=5000 answers 200 once the task acknowledges the pause", async () => {
      const { manager } = server;
      const { task } = await manager.create("steps", { steps: 500, delayMs: 10 });
      await untilStatus(manager, task.id, ["RUNNING"]);
      const response = await post(`/tasks/${task.id}/pause?wait=5000`);
      expect(response.status).toBe(200);
      const answer = await body<ControlAnswer>(response);
      expect(answer.task.status).toBe("PAUSED");
      expect(answer.task.requestedAction).toBeNull();
      expect(answer.requestedAction).toBeUndefined();
    });

    test("?wait= that runs out answers 202 with the request still pending", async () => {
      const { manager } = server;
      const { task } = await manager.create("hang", {});
      await untilStatus(manager, task.id, ["RUNNING"]);
      const started = Date.now();
      const response = await post(`/tasks/${task.id}/pause?wait=200`);
      expect(response.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(await body<ControlAnswer>(response)).toMatchObject({
        requestedAction: "pause",
        task: { status: "RUNNING", requestedAction: "pause" },
      });
      // A stop that the task never acknowledges ends its worker after the grace period.
      const stop = await post(`/tasks/${task.id}/stop?wait=5000`);
      expect(stop.status).toBe(200);
      expect((await body<ControlAnswer>(stop)).task.status).toBe("STOPPED");
    });

    test("pause and resume of a PENDING task are immediate (200)", async () => {
      const { manager } = server;
      const { task } = await manager.create("echo", { value: 1 }, { runAt: Date.now() + 60_000 });
      const pause = await post(`/tasks/${task.id}/pause`);
      expect(pause.status).toBe(200);
      expect((await body<ControlAnswer>(pause)).task.status).toBe("PAUSED");
      const resume = await post(`/tasks/${task.id}/resume`, {});
      expect(resume.status).toBe(200);
      expect((await body<ControlAnswer>(resume)).task.status).toBe("PENDING");
    });

    test("restart of a FINISHED task queues it again with attempt + 1", async () => {
      const { manager } = server;
      const { task } = await manager.create("echo", { value: 7 });
      await untilStatus(manager, task.id, ["FINISHED"]);
      const response = await post(`/tasks/${task.id}/restart`);
      expect(response.status).toBe(200);
      const { task: restarted } = await body<ControlAnswer>(response);
      expect(restarted.status).toBe("PENDING");
      expect(restarted.attempt).toBe(2);
      const finished = await untilStatus(manager, task.id, ["FINISHED"]);
      expect(finished.attempt).toBe(2);
    });
  });

  describe("refusals", () => {
    test("pausing a FINISHED task is 409 illegal_transition", async () => {
      const { manager } = server;
      const { task } = await manager.create("echo", { value: 1 });
      await untilStatus(manager, task.id, ["FINISHED"]);
      const response = await post(`/tasks/${task.id}/pause`);
      expect(response.status).toBe(409);
      const { error } = await body<ApiError>(response);
      expect(error.code).toBe("illegal_transition");
      expect(error.message).toContain("FINISHED");
      expect(error.details).toMatchObject({ status: "FINISHED" });
    });

    test("resuming a RUNNING task is 409", async () => {
      const { task } = await server.manager.create("hang", {});
      await untilStatus(server.manager, task.id, ["RUNNING"]);
      const response = await post(`/tasks/${task.id}/resume`);
      expect(response.status).toBe(409);
      expect((await body<ApiError>(response)).error.code).toBe("illegal_transition");
    });

    test("control of an unknown id is 404; a bad wait or body is 422", async () => {
      const missing = await post("/tasks/no-such-task/stop");
      expect(missing.status).toBe(404);
      expect((await body<ApiError>(missing)).error.code).toBe("task_not_found");

      const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
      for (const wait of ["-1", "30001", "soon", "1.5"]) {
        const response = await post(`/tasks/${task.id}/resume?wait=${wait}`);
        expect(response.status).toBe(422);
        const { error } = await body<ApiError>(response);
        expect(error.code).toBe("validation");
        expect(error.message).toContain("wait");
      }
      const extra = await post(`/tasks/${task.id}/resume`, { reason: "x", force: true });
      expect(extra.status).toBe(422);
      expect((await body<ApiError>(extra)).error.message).toContain("force");
      const badReason = await post(`/tasks/${task.id}/resume`, { reason: 5 });
      expect(badReason.status).toBe(422);
      expect((await body<ApiError>(badReason)).error.message).toContain("reason");
    });
  });
});
