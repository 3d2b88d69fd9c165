import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EventJson, TaskJson } from "../../src/http/index.ts";
import type { Logger } from "../../src/index.ts";
import { untilStatus } from "../helpers.ts";
import { body, startServer, type TestServer } from "./server.ts";

const ADMIN = "audit-admin-token";
const READ = "audit-read-token";
const auth = { authorization: `Bearer ${ADMIN}` };

const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
const record =
  () =>
  (message: string, fields: Record<string, unknown> = {}) =>
    logged.push({ message, fields });
const logger: Logger = { debug: record(), info: record(), warn: record(), error: record() };

let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { token: ADMIN, readTokens: [READ], logger });
});
afterAll(async () => {
  await server.stop();
});

const post = (path: string, json?: unknown) =>
  server.call(path, json === undefined ? { method: "POST", headers: auth } : { headers: auth, json });

async function history(id: string): Promise<EventJson[]> {
  const response = await server.call(`/tasks/${id}/events?limit=500`, { headers: auth });
  return (await body<{ items: EventJson[] }>(response)).items;
}

describe("who asked, from where", () => {
  test("create, pause, resume, stop and restart each record the token's label and the client address", async () => {
    const created = await post("/tasks", { name: "steps", params: { steps: 5_000, delayMs: 10 } });
    expect(created.status).toBe(201);
    const { id } = await body<TaskJson>(created);
    const { manager } = server;
    await manager.waitFor(id, (task) => (task.progress?.done ?? 0) >= 1);
    expect((await post(`/tasks/${id}/pause?wait=10000`)).status).toBe(200);
    expect((await post(`/tasks/${id}/resume`)).status).toBe(200);
    await manager.waitFor(id, (task) => task.status === "RUNNING");
    expect((await post(`/tasks/${id}/stop?wait=10000`)).status).toBe(200);
    expect((await post(`/tasks/${id}/restart`)).status).toBe(200);
    await untilStatus(manager, id, ["RUNNING"]);
    await manager.stop(id); // a library call: it records no actor and no source
    await untilStatus(manager, id, ["STOPPED"]);

    const events = await history(id);
    const asked = events.filter((event) => event.actor !== "kiln");
    const rows = asked.map(
      (event) => `${event.action} ${event.from}→${event.to} ${event.actor} ${event.source}`,
    );
    expect(rows).toEqual([
      "create null→PENDING admin 127.0.0.1",
      "pause RUNNING→null admin 127.0.0.1", // the request, stored until the checkpoint
      "pause RUNNING→PAUSED admin 127.0.0.1", // acknowledged: still the one who asked
      "resume PAUSED→PENDING admin 127.0.0.1",
      "stop RUNNING→null admin 127.0.0.1",
      "stop RUNNING→STOPPED admin 127.0.0.1",
      "restart STOPPED→PENDING admin 127.0.0.1",
      "stop RUNNING→null null null",
      "stop RUNNING→STOPPED null null",
    ]);
    // What the engine does on its own names the engine and no address.
    const engine = events.filter((event) => event.actor === "kiln");
    expect(engine.length).toBeGreaterThanOrEqual(3);
    expect(engine.every((event) => event.source === null)).toBe(true);
  });

  test("a delete, which removes the history, leaves who asked and from where in the service log", async () => {
    const { task } = await server.manager.create("echo", { value: 1 });
    await untilStatus(server.manager, task.id, ["FINISHED"]);
    const refused = await server.call(`/tasks/${task.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${READ}` },
    });
    expect(refused.status).toBe(403);
    expect(await server.manager.get(task.id)).toBeDefined();
    const deleted = await server.call(`/tasks/${task.id}`, { method: "DELETE", headers: auth });
    expect(deleted.status).toBe(204);
    expect(logged).toContainEqual({
      message: "task deleted",
      fields: { id: task.id, actor: "admin", source: "127.0.0.1" },
    });
    expect(logged).toContainEqual({
      message: "request refused: read-only token",
      fields: { route: `DELETE /tasks/${task.id}`, source: "127.0.0.1", actor: "read-1" },
    });
  });
});
