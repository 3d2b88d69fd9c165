import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createKilnApp, type TaskJson } from "../../src/http/index.ts";
import { TaskManager } from "../../src/index.ts";
import { tempDir, untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

interface TaskPage {
  items: TaskJson[];
  nextCursor: string | null;
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

  describe("probes", () => {
    test("GET /health and GET /ready answer while the manager runs", async () => {
      const health = await server.call("/health");
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      const ready = await server.call("/ready");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready" });
    });

    test("GET /ready is 503 before the manager has started", async () => {
      const dir = tempDir();
      const manager = new TaskManager({ db: `${dir.path}/kiln.db` });
      const app = createKilnApp(manager).listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const response = await fetch(`http://127.0.0.1:${app.server?.port}/ready`);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ status: "not_ready", reason: "kiln has not started yet" });
        const health = await fetch(`http://127.0.0.1:${app.server?.port}/health`);
        expect(health.status).toBe(200);
      } finally {
        await app.stop(true);
        await manager.shutdown();
        dir.remove();
      }
    });
  });

  describe("task types", () => {
    test("GET /task-types lists every registered name with its schemas and options", async () => {
      const response = await server.call("/task-types");
      expect(response.status).toBe(200);
      const { items } = await body<{ items: Record<string, unknown>[] }>(response);
      expect(items.map((item) => item.name)).toEqual(server.manager.registry.names());
      const steps = items.find((item) => item.name === "steps");
      expect(steps).toMatchObject({
        params: {
          type: "object",
          properties: { steps: { type: "integer", minimum: 0 }, delayMs: { type: "integer", default: 5 } },
        },
        result: null,
        options: {
          timeoutMs: null,
          concurrency: null,
          resumable: true,
          retry: { attempts: 1 },
          isolation: "worker",
          memoryLimitMb: null,
        },
      });
      expect(items.find((item) => item.name === "flaky")?.options).toMatchObject({
        retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 100 },
      });
      expect(items.find((item) => item.name === "bad-result")?.result).toMatchObject({ type: "object" });
      expect(items.find((item) => item.name === "slow")?.options).toMatchObject({ timeoutMs: 200 });
    });
  });

  describe("create and read", () => {
    test("POST /tasks answers 201 with the task; GET /tasks/:id reads it back", async () => {
      const created = await server.call("/tasks", {
        json: { name: "echo", params: { value: "hi" }, priority: 3, tags: ["a", "b"] },
      });
      expect(created.status).toBe(201);
      const task = await body<TaskJson>(created);
      expect(task).toMatchObject({
        name: "echo",
        status: "PENDING",
        params: { value: "hi" },
        priority: 3,
        tags: ["a", "b"],
        attempt: 1,
        requestedAction: null,
        progress: null,
        result: null,
      });
      expect(Date.parse(task.createdAt ?? "")).toBeGreaterThan(0);

      await untilStatus(server.manager, task.id, ["FINISHED"]);
      const read = await server.call(`/tasks/${task.id}`);
      expect(read.status).toBe(200);
      const finished = await body<TaskJson>(read);
      expect(finished.status).toBe("FINISHED");
      expect(finished.result).toEqual({ value: "hi" });
      expect(finished.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(finished.endTime).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(Object.keys(finished).sort()).toEqual(
        [
          "id",
          "name",
          "node",
          "status",
          "statusReason",
          "params",
          "result",
          "error",
          "progress",
          "attempt",
          "priority",
          "tags",
          "requestedAction",
          "createdAt",
          "startTime",
          "endTime",
          "lastRunTime",
          "runAt",
          "durationMs",
          "activeMs",
          "parentId",
          "context",
          "schedule",
          "awaiting",
          "onDependencyFailure",
          "dependsOn",
          "waitingFor",
          "children",
        ].sort(),
      );
    });

    test("a repeated idempotency key answers 200 with the first task; with other params or name, 409", async () => {
      const json = { name: "echo", params: { value: 1 }, idempotencyKey: "order-42" };
      const first = await server.call("/tasks", { json });
      expect(first.status).toBe(201);
      const firstId = (await body<TaskJson>(first)).id;
      const again = await server.call("/tasks", { json });
      expect(again.status).toBe(200);
      expect((await body<TaskJson>(again)).id).toBe(firstId);
      for (const changed of [
        { ...json, params: { value: 2 } },
        { ...json, name: "steps", params: { steps: 1 } },
      ]) {
        const conflict = await server.call("/tasks", { json: changed });
        expect(conflict.status).toBe(409);
        const { error } = await body<ApiError>(conflict);
        expect(error.code).toBe("idempotency_conflict");
        expect(error.message).toContain(
          `the idempotency key "order-42" was already used for task ${firstId}`,
        );
        expect(error.details).toEqual({ taskId: firstId, taskName: "echo" });
      }
    });

    test("runAt takes an ISO date-time or epoch milliseconds", async () => {
      const later = Date.now() + 60_000;
      const byIso = await server.call("/tasks", {
        json: { name: "echo", params: { value: 1 }, runAt: new Date(later).toISOString() },
      });
      expect(byIso.status).toBe(201);
      expect((await body<TaskJson>(byIso)).runAt).toBe(new Date(later).toISOString());
      const byEpoch = await server.call("/tasks", {
        json: { name: "echo", params: { value: 1 }, runAt: later },
      });
      expect(byEpoch.status).toBe(201);
      const task = await body<TaskJson>(byEpoch);
      expect(task.runAt).toBe(new Date(later).toISOString());
      await Bun.sleep(50);
      expect((await server.manager.require(task.id)).status).toBe("PENDING");
    });

    test("progress is presented with a percentage", async () => {
      const { task } = await server.manager.create("steps", { steps: 3, delayMs: 1 });
      await untilStatus(server.manager, task.id, ["FINISHED"]);
      const read = await body<TaskJson>(await server.call(`/tasks/${task.id}`));
      expect(read.progress).toEqual({ done: 3, total: 3, percent: 100, message: "step 3" });
    });
  });

  describe("list", () => {
    test("GET /tasks filters by status, name and tag, newest first, and pages with the cursor", async () => {
      const { manager } = server;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          (await manager.create("echo", { value: i }, { paused: true, tags: i % 2 ? ["odd"] : ["even"] }))
            .task.id,
        );
      }
      const steps = (await manager.create("steps", { steps: 0 }, { paused: true })).task;

      const all = await body<TaskPage>(await server.call("/tasks"));
      expect(all.items.map((task) => task.id)).toEqual([steps.id, ...[...ids].reverse()]);
      expect(all.nextCursor).toBeNull();

      const echoes = await body<TaskPage>(await server.call("/tasks?name=echo&status=PAUSED"));
      expect(echoes.items).toHaveLength(5);
      const odd = await body<TaskPage>(await server.call("/tasks?tag=odd"));
      expect(odd.items.map((task) => task.id)).toEqual([ids[3] as string, ids[1] as string]);
      const none = await body<TaskPage>(await server.call("/tasks?status=FAILED"));
      expect(none.items).toEqual([]);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const response = await server.call(`/tasks?name=echo&limit=2${query}`);
        expect(response.status).toBe(200);
        const page: TaskPage = await body<TaskPage>(response);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((task) => task.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual([...ids].reverse());
      expect(pages).toBe(3);
    });
  });

  describe("delete", () => {
    test("DELETE /tasks/:id answers 204 for an ended task and 409 for a live one", async () => {
      const live = (await server.manager.create("echo", { value: 1 }, { paused: true })).task;
      const refused = await server.call(`/tasks/${live.id}`, { method: "DELETE" });
      expect(refused.status).toBe(409);
      expect((await body<ApiError>(refused)).error.code).toBe("illegal_transition");

      const { task } = await server.manager.create("echo", { value: 2 });
      await untilStatus(server.manager, task.id, ["FINISHED"]);
      const deleted = await server.call(`/tasks/${task.id}`, { method: "DELETE" });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe("");
      const gone = await server.call(`/tasks/${task.id}`);
      expect(gone.status).toBe(404);
      expect((await body<ApiError>(gone)).error.code).toBe("task_not_found");
      const again = await server.call(`/tasks/${task.id}`, { method: "DELETE" });
      expect(again.status).toBe(404);
    });
  });
});
