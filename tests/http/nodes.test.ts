// GET /nodes over real HTTP on a SQLite database: one node, this process, always the leader.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import type { NodeListJson, TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

const ADMIN = "admin-token-for-nodes";
const READ = "read-token-for-nodes";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ nodeName: "test-node", concurrency: 3 }, { token: ADMIN, readTokens: [READ] });
});
afterAll(async () => {
  await server.stop();
});

const as = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

async function nodes(token = READ): Promise<NodeListJson> {
  const response = await server.call("/nodes", as(token));
  expect(response.status).toBe(200);
  return body<NodeListJson>(response);
}

describe("GET /nodes", () => {
  test("lists this process alone: its name, id, pid, host, concurrency, leader; times as ISO strings", async () => {
    const before = Date.now();
    const { items } = await nodes();
    expect(items).toHaveLength(1);
    const [node] = items;
    expect(node).toEqual({
      id: server.manager.node.id,
      name: "test-node",
      host: hostname(),
      pid: process.pid,
      startedAt: new Date(server.manager.node.startedAt).toISOString(),
      lastHeartbeatAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      heartbeatAgeMs: expect.any(Number),
      status: "alive",
      concurrency: 3,
      running: 0,
      leader: true,
    });
    expect(node?.id).toMatch(/^test-node\/[0-9a-f]{8}$/);
    // On SQLite the one node's heartbeat is now: its age is small and never negative.
    expect(Date.parse(node?.lastHeartbeatAt ?? "")).toBeGreaterThanOrEqual(before - 1);
    expect(node?.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(node?.heartbeatAgeMs).toBeLessThan(5_000);
  });

  test("a running task counts in `running`; it is back to 0 once the task is stopped", async () => {
    const created = await server.call("/tasks", { ...as(ADMIN), json: { name: "hang" } });
    expect(created.status).toBe(201);
    const task = await body<TaskJson>(created);
    await untilStatus(server.manager, task.id, ["RUNNING"]);
    expect((await nodes()).items[0]).toMatchObject({ running: 1, concurrency: 3, leader: true });
    const stopped = await server.call(`/tasks/${task.id}/stop`, { ...as(ADMIN), method: "POST" });
    expect(stopped.status).toBe(202);
    await untilStatus(server.manager, task.id, ["STOPPED"]);
    expect((await nodes()).items[0]?.running).toBe(0);
  });

  test("needs a token like reading tasks: none is a 401", async () => {
    const response = await server.call("/nodes");
    expect(response.status).toBe(401);
    expect((await body<ApiError>(response)).error.code).toBe("unauthorized");
  });

  test("is in the OpenAPI document with its schema and example", async () => {
    const doc = await body<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      await server.call("/swagger/json", as(READ)),
    );
    const ok = doc.paths["/nodes"]?.get?.responses["200"];
    expect(JSON.stringify(ok)).toContain("heartbeatAgeMs");
    expect(JSON.stringify(ok)).toContain("node-1/3f9a0c1e");
  });
});
