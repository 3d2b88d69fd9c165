// Fan-out and fan-in over HTTP, on each store: GET /tasks/:id of a waiting parent shows what it
// waits for and its children's progress, a child shows its parent, and the parent's result holds
// every child's outcome once it has resumed.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import type { FanOutResult } from "../fixtures/fan-in-tasks.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";
import { body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
let store: StoreOptions;

interface TaskDetail extends TaskJson {
  waitingFor: string[];
  children: {
    total: number;
    ended: number;
    counts: Record<string, number>;
    items: Array<{ id: string; name: string; status: string }>;
  };
}

describe.each(STORE_KINDS)("fan-in over HTTP on %s", (kind) => {
  beforeEach(async () => {
    store = await makeStoreOptions(kind);
    server = await startServer({ ...store.options, concurrency: 2 });
  });
  afterEach(async () => {
    try {
      await server.stop();
    } finally {
      await store.close();
    }
  });

  const read = async (id: string) => body<TaskDetail>(await server.call(`/tasks/${id}`));
  async function until(id: string, ok: (task: TaskDetail) => boolean): Promise<TaskDetail> {
    const deadline = Date.now() + 30_000;
    let task = await read(id);
    while (!ok(task) && Date.now() < deadline) {
      await Bun.sleep(25);
      task = await read(id);
    }
    return task;
  }

  test("a waiting parent shows its wait and its children; it finishes with their outcomes", async () => {
    const created = await server.call("/tasks", {
      json: { name: "fan-out", params: { count: 5, childMs: 300, fail: [4] } },
    });
    expect(created.status).toBe(201);
    const { id } = await body<TaskJson>(created);
    const waiting = await until(id, (task) => task.awaiting === "children");
    expect(waiting.status).toBe("PENDING");
    expect(waiting.statusReason).toMatch(/^waiting for/);
    expect(waiting.waitingFor).toHaveLength(5);
    expect(waiting.children.total).toBe(5);
    expect(waiting.children.items.map((child) => child.id)).toEqual(waiting.waitingFor);
    expect(waiting.children.items.every((child) => child.name === "fan-child")).toBe(true);

    const child = await read(waiting.waitingFor[0] as string);
    expect(child.parentId).toBe(id);

    const done = await until(id, (task) => task.status === "FINISHED" || task.status === "FAILED");
    expect(done.status).toBe("FINISHED");
    expect(done.awaiting).toBeNull();
    expect(done.children).toMatchObject({ total: 5, ended: 5, counts: { FINISHED: 4, FAILED: 1 } });
    const result = done.result as FanOutResult;
    expect(result.statuses).toEqual(["FINISHED", "FINISHED", "FINISHED", "FINISHED", "FAILED"]);
    expect(result.values).toEqual([0, 1, 2, 3, "child 4 failed as asked"]);

    const events = await body<{ items: Array<{ action: string; reason: string | null }> }>(
      await server.call(`/tasks/${id}/events`),
    );
    expect(events.items.filter((event) => event.action === "start")).toHaveLength(2);
    expect(events.items.map((event) => event.reason)).toContain("waiting for 5 children (waitFor)");
  });

  test("POST /tasks/:id/stop of a waiting parent stops its children", async () => {
    const { id } = await body<TaskJson>(
      await server.call("/tasks", { json: { name: "fan-out", params: { count: 3, childMs: 30_000 } } }),
    );
    await until(id, (task) => task.awaiting === "children");
    const stop = await server.call(`/tasks/${id}/stop`, { json: {} });
    expect(stop.status).toBe(200);
    const stopped = await until(id, (task) => task.children.counts.STOPPED === 3);
    expect(stopped.status).toBe("STOPPED");
    expect(stopped.children.ended).toBe(3);
    const child = await read(stopped.children.items[0]?.id as string);
    expect(child.statusReason).toBe(`its parent ${id} was stopped`);
  });
});
