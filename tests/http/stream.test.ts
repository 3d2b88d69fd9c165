import { afterEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import type { ManagerListener } from "../../src/index.ts";
import { untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreKind, type StoreOptions } from "../stores.ts";
import { startServer, type TestServer } from "./server.ts";
import { type SseMessage, SseReader } from "./sse.ts";

let server: TestServer | undefined;
let store: StoreOptions | undefined;
afterEach(async () => {
  try {
    await server?.stop();
  } finally {
    server = undefined;
    await store?.close();
    store = undefined;
  }
});

/** A server over a fresh store of `kind`. */
async function serve(
  kind: StoreKind,
  httpOptions: Parameters<typeof startServer>[1] = {},
): Promise<TestServer> {
  store = await makeStoreOptions(kind);
  server = await startServer(store.options, httpOptions);
  return server;
}

const transitionTo = (message: SseMessage) =>
  message.event === "transition" ? (message.data as { to: string }).to : undefined;

async function open(path: string, signal?: AbortSignal): Promise<{ response: Response; reader: SseReader }> {
  if (!server) throw new Error("no server");
  const response = await server.call(path, { signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  if (!response.body) throw new Error("no body");
  return { response, reader: new SseReader(response.body) };
}

describe.each(STORE_KINDS)("GET /events on %s", (kind) => {
  test("delivers a task's transitions in order, with the task JSON", async () => {
    server = await serve(kind);
    const { reader } = await open("/events");
    const created = await server.call("/tasks", { json: { name: "echo", params: { value: "sse" } } });
    const { id } = (await created.json()) as TaskJson;
    const messages = await reader.collect(
      (message) =>
        transitionTo(message) === "FINISHED" && (message.data as { task: TaskJson }).task.id === id,
    );
    const transitions = messages.filter(
      (message) => message.event === "transition" && (message.data as { task: TaskJson }).task.id === id,
    );
    expect(transitions.map(transitionTo)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
    const finished = transitions.at(-1)?.data as { from: string; action: string; at: string; task: TaskJson };
    expect(finished.from).toBe("RUNNING");
    expect(finished.task).toMatchObject({ id, name: "echo", status: "FINISHED", result: { value: "sse" } });
    expect(new Date(finished.at).toISOString()).toBe(finished.at);
    await reader.cancel();
  });

  test("?task= filters to one task and carries progress and log events", async () => {
    server = await serve(kind);
    const { manager } = server;
    const other = (await manager.create("echo", { value: 1 }, { paused: true })).task;
    const task = (await manager.create("steps", { steps: 3, delayMs: 5 }, { paused: true })).task;
    const { reader } = await open(`/events?task=${task.id}`);
    await manager.resume(other.id);
    await manager.resume(task.id);
    const messages = await reader.collect((message) => transitionTo(message) === "FINISHED");
    const ids = messages.map((message) => {
      const data = message.data as { task?: TaskJson; taskId?: string };
      return data.task?.id ?? data.taskId;
    });
    expect(new Set(ids)).toEqual(new Set([task.id]));
    const kinds = new Set(messages.map((message) => message.event));
    expect(kinds).toContain("progress");
    expect(kinds).toContain("log");
    const progress = messages.filter((message) => message.event === "progress").at(-1)?.data;
    expect(progress).toMatchObject({ taskId: task.id, progress: { done: 3, total: 3, percent: 100 } });
    expect(messages.filter((message) => message.event === "transition").map(transitionTo)).toEqual([
      "PENDING",
      "RUNNING",
      "FINISHED",
    ]);
    await reader.cancel();
  });

  test("control requests arrive as request events", async () => {
    server = await serve(kind);
    const { manager } = server;
    const { task } = await manager.create("steps", { steps: 500, delayMs: 10 });
    await untilStatus(manager, task.id, ["RUNNING"]);
    const { reader } = await open(`/events?task=${task.id}`);
    await server.call(`/tasks/${task.id}/pause`, { json: { reason: "see" } });
    const messages = await reader.collect((message) => transitionTo(message) === "PAUSED");
    const request = messages.find((message) => message.event === "request");
    expect(request?.data).toMatchObject({
      action: "pause",
      reason: "see",
      actor: "anonymous",
      source: "127.0.0.1",
    });
    await reader.cancel();
  });

  test("sends heartbeats and unsubscribes when the client disconnects", async () => {
    server = await serve(kind, { heartbeatMs: 50 });
    const { manager } = server;
    let active = 0;
    const subscribe = manager.subscribe.bind(manager);
    manager.subscribe = (listener: ManagerListener) => {
      active++;
      const unsubscribe = subscribe(listener);
      return () => {
        active--;
        unsubscribe();
      };
    };
    const controller = new AbortController();
    const { reader } = await open("/events", controller.signal);
    expect(active).toBe(1);
    const stream = reader.next();
    await Bun.sleep(200);
    await manager.create("echo", { value: 1 });
    await stream;
    expect(reader.comments).toBeGreaterThanOrEqual(2); // ": connected" and at least one heartbeat
    controller.abort();
    const deadline = Date.now() + 5_000;
    while (active > 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(active).toBe(0);
  });
});
