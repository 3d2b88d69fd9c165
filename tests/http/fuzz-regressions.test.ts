// Bugs the HTTP fuzz suite (tests/fuzz) found, each pinned by the smallest request that hit it.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { MAX_JSON_DEPTH } from "../../src/http/json-depth.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.stop();
});

const nestedArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

test("a body nested thousands of levels deep is a 400, not a stack overflow (500) while describing it", async () => {
  const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
  // Was: RangeError: Maximum call stack size exceeded in Elysia's ValidationError → 500.
  for (const action of ["stop", "restart", "pause"]) {
    const response = await server.call(`/tasks/${task.id}/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"reason":${nestedArray(10_000)}}`,
    });
    expect(response.status).toBe(400);
    const { error } = await body<ApiError>(response);
    expect(error).toEqual({
      code: "bad_request",
      message: `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
      details: { maxDepth: MAX_JSON_DEPTH },
    });
  }
  expect((await server.manager.get(task.id))?.status).toBe("PAUSED");
});

test("nesting up to the limit is accepted, and brackets inside strings do not count", async () => {
  const deepest = `{"name":"echo","params":{"value":${nestedArray(MAX_JSON_DEPTH - 2)}}}`;
  expect(
    (
      await server.call("/tasks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: deepest,
      })
    ).status,
  ).toBe(201);
  const tooDeep = `{"name":"echo","params":{"value":${nestedArray(MAX_JSON_DEPTH - 1)}}}`;
  expect(
    (
      await server.call("/tasks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: tooDeep,
      })
    ).status,
  ).toBe(400);
  const brackets = await server.call("/tasks", {
    json: { name: "echo", params: { value: "[{".repeat(1_000) } },
  });
  expect(brackets.status).toBe(201);
});

test("a SQLite storage error that reaches the API without the engine's guard is a 503, not a 500", async () => {
  server.manager.list = () => {
    throw Object.assign(new Error("database or disk is full"), { name: "SQLiteError", code: "SQLITE_FULL" });
  };
  const response = await server.call("/tasks");
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  const { error } = await body<ApiError>(response);
  expect(error.code).toBe("storage_unavailable");
  expect(error.message).toContain("the disk holding the database is full (SQLITE_FULL)");
  expect(error.details).toEqual({ cause: "disk_full", sqliteCode: "SQLITE_FULL" });
});

test("an asset named like a member of Object.prototype is a 404, not a 500 or an empty 200", async () => {
  // Was: SWAGGER_ASSETS["toString"] found the inherited function → Bun.file(undefined) → 500;
  // the dashboard answered 200 with no body and no content type.
  for (const prefix of ["/swagger/assets", "/dashboard/assets"]) {
    for (const name of ["toString", "constructor", "hasOwnProperty", "valueOf", "__proto__"]) {
      const response = await server.call(`${prefix}/${name}`);
      expect(response.status).toBe(404);
      expect((await body<ApiError>(response)).error.code).toBe("not_found");
    }
  }
});

test("HEAD on the event stream answers with its head at once, with or without a trailing slash", async () => {
  // Was: HEAD /events/ never answered; Bun waited for the end of an endless stream body.
  for (const path of ["/events", "/events/", "/events/./."]) {
    const response = await server.call(path, { method: "HEAD", signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  }
});
