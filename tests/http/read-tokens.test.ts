import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKilnApp } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

const ADMIN = "admin-token-0123456789";
// Tokens may hold '=' (base64 padding): they are never split, their labels come from the order.
const READ = ["read-token=one==", "read-token-two"];
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

let server: TestServer;
let finished: string;
beforeAll(async () => {
  server = await startServer({}, { token: ADMIN, readTokens: READ });
  const { task } = await server.manager.create("echo", { value: 1 });
  await untilStatus(server.manager, task.id, ["FINISHED"]);
  finished = task.id;
  // A schedule under the same id, so that every `/schedules/:id` route has one to act on.
  await server.manager.schedules.create({
    id: finished,
    name: "echo",
    everyMs: 60_000,
    params: { value: 1 },
  });
});
afterAll(async () => {
  await server.stop();
});

/** Every route kiln serves, as METHOD and a concrete path (`:id` an existing task, `:file` an asset). */
function routes(): Array<{ method: string; path: string; pattern: string }> {
  const files: Record<string, string> = {
    "/swagger/assets/:file": "swagger-ui.css",
    "/dashboard/assets/:file": "app.css",
  };
  return server.app.routes.map((route) => ({
    method: route.method,
    pattern: route.path,
    path: (route.path.replace(":file", files[route.path] ?? "") as string).replace(":id", finished),
  }));
}

const MUTATING = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);

function request(method: string, path: string, token: string): Promise<Response> {
  const init: RequestInit = { method, headers: bearer(token) };
  if (method === "POST" && path === "/tasks") {
    return server.call(path, { ...init, json: { name: "echo", params: { value: 9 } } });
  }
  if (method === "POST" && path === "/schedules") {
    return server.call(path, { ...init, json: { name: "echo", everyMs: 60_000, params: { value: 9 } } });
  }
  if (method === "PATCH" && path.startsWith("/schedules/")) {
    return server.call(path, { ...init, json: { paused: true } });
  }
  if (method === "POST" && path === "/tasks/bulk") {
    return server.call(path, { ...init, json: { action: "delete", ids: [finished] } });
  }
  return server.call(path, init);
}

describe("read-only tokens", () => {
  test("every mutating route answers 403 forbidden, saying the token is read-only; nothing changes", async () => {
    const mutating = routes().filter((route) => MUTATING(route.method));
    // The iteration must cover create, delete and the four control actions at least.
    expect(mutating.map((route) => `${route.method} ${route.pattern}`)).toEqual(
      expect.arrayContaining([
        "POST /tasks",
        "DELETE /tasks/:id",
        "POST /tasks/:id/pause",
        "POST /tasks/:id/resume",
        "POST /tasks/:id/stop",
        "POST /tasks/:id/restart",
        "POST /tasks/bulk",
      ]),
    );
    const before = {
      tasks: (await server.manager.list()).items,
      history: (await server.manager.events(finished)).items,
      schedules: await server.manager.schedules.list(),
    };
    for (const [index, token] of READ.entries()) {
      for (const route of mutating) {
        const response = await request(route.method, route.path, token);
        expect(`${route.method} ${route.pattern} ${response.status}`).toBe(
          `${route.method} ${route.pattern} 403`,
        );
        const error = await body<ApiError>(response);
        expect(error.error.code).toBe("forbidden");
        expect(error.error.message).toContain(`"read-${index + 1}" is read-only`);
        expect(error.error.message).not.toContain(token);
      }
    }
    expect((await server.manager.list()).items).toEqual(before.tasks);
    expect((await server.manager.events(finished)).items).toEqual(before.history);
    expect(await server.manager.schedules.list()).toEqual(before.schedules);
  });

  test("every read route answers 2xx: list, get, history, logs, events stream, metrics, stats, OpenAPI", async () => {
    const reads = routes().filter((route) => route.method === "GET" && route.pattern !== "/");
    expect(reads.map((route) => route.pattern)).toEqual(
      expect.arrayContaining([
        "/tasks",
        "/tasks/:id",
        "/tasks/:id/events",
        "/tasks/:id/logs",
        "/events",
        "/metrics",
        "/stats",
        "/swagger/json",
        "/task-types",
      ]),
    );
    for (const token of READ) {
      for (const route of reads) {
        const controller = new AbortController();
        const response = await server.call(route.path, { headers: bearer(token), signal: controller.signal });
        expect(`GET ${route.pattern} ${response.ok}`).toBe(`GET ${route.pattern} true`);
        // The event stream never ends by itself: its answer's headers are what counts here.
        if (route.pattern === "/events") controller.abort();
        else await response.arrayBuffer();
      }
    }
  });

  test("the admin token may still do everything; an unknown token is 401 as before", async () => {
    const created = await request("POST", "/tasks", ADMIN);
    expect(created.status).toBe(201);
    const unknown = await request("GET", "/tasks", "not-a-token");
    expect(unknown.status).toBe(401);
    expect((await body<ApiError>(unknown)).error.code).toBe("unauthorized");
    // A read token with a character more or less is unknown, not read-only.
    const near = await request("POST", "/tasks", `${READ[1]}x`);
    expect(near.status).toBe(401);
  });

  test("options that cannot work are refused when the app is built, naming labels, not tokens", () => {
    const { manager } = server;
    expect(() => createKilnApp(manager, { readTokens: ["only-read"] })).toThrow(/need an admin token/);
    let message = "";
    try {
      createKilnApp(manager, { token: ADMIN, readTokens: ["r-one", ADMIN] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("read-2 repeats an earlier token");
    expect(message).not.toContain(ADMIN);
    expect(() => createKilnApp(manager, { token: ADMIN, readTokens: [""] })).toThrow(
      /read-1 must not be empty/,
    );
  });
});
