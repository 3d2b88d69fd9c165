import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { tokenMatcher } from "../../src/http/auth.ts";
import { kilnRoutes } from "../../src/http/index.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

const TOKEN = "a-token-long-enough-to-be-real";
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { token: TOKEN });
});
afterAll(async () => {
  await server.stop();
});

describe("bearer token", () => {
  test("every API route refuses a request without it: 401, the error shape, WWW-Authenticate", async () => {
    const { task } = await server.manager.create("echo", { value: 1 });
    const routes: Array<[string, RequestInit]> = [
      ["/task-types", {}],
      ["/tasks", {}],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "echo" }),
        },
      ],
      [`/tasks/${task.id}`, {}],
      [`/tasks/${task.id}/pause`, { method: "POST" }],
      [`/tasks/${task.id}/events`, {}],
      [`/tasks/${task.id}/logs`, {}],
      [`/tasks/${task.id}`, { method: "DELETE" }],
      ["/events", {}],
      ["/metrics", {}],
      ["/swagger/json", {}],
    ];
    for (const [path, init] of routes) {
      const response = await server.call(path, init);
      expect(`${init.method ?? "GET"} ${path} ${response.status}`).toBe(
        `${init.method ?? "GET"} ${path} 401`,
      );
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="kiln"');
      const error = await body<ApiError>(response);
      expect(error.error.code).toBe("unauthorized");
      expect(error.error.message).toContain("Authorization: Bearer");
    }
    // Nothing was created or changed by the refused requests.
    expect((await server.manager.list()).items).toHaveLength(1);
    expect((await server.manager.require(task.id)).requestedAction).toBeNull();
  });

  test("a wrong token or scheme is refused with its own message", async () => {
    const wrong = await server.call("/tasks", bearer("not-the-token"));
    expect(wrong.status).toBe(401);
    expect((await body<ApiError>(wrong)).error.message).toContain("not valid");
    const basic = await server.call("/tasks", { headers: { authorization: `Basic ${btoa(`x:${TOKEN}`)}` } });
    expect(basic.status).toBe(401);
    const prefix = await server.call("/tasks", bearer(TOKEN.slice(0, -1)));
    expect(prefix.status).toBe(401);
  });

  test("with the token every route works; probes and the Swagger page need none", async () => {
    expect((await server.call("/tasks", bearer(TOKEN))).status).toBe(200);
    expect((await server.call("/tasks", { headers: { authorization: `bearer   ${TOKEN}` } })).status).toBe(
      200,
    );
    const created = await server.call("/tasks", {
      ...bearer(TOKEN),
      json: { name: "echo", params: { value: 2 } },
    });
    expect(created.status).toBe(201);
    for (const path of [
      "/health",
      "/ready",
      "/swagger",
      "/swagger/assets/swagger-ui.css",
      "/swagger/assets/init.js",
    ]) {
      const response = await server.call(path);
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      await response.arrayBuffer();
    }
  });

  test("the OpenAPI document declares the bearer scheme and each task name's params", async () => {
    const response = await server.call("/swagger/json", bearer(TOKEN));
    const spec = await body<{
      security: unknown;
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    }>(response);
    expect(spec.security).toEqual([{ bearer: [] }]);
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const schema = spec.paths["/tasks"]?.post?.requestBody?.content["application/json"]?.schema as {
      oneOf: Array<{ title: string; properties: { params: unknown } }>;
    };
    const names = schema.oneOf.map((variant) => variant.title);
    expect(names).toEqual(expect.arrayContaining(["echo", "steps", "hold"]));
    const steps = schema.oneOf.find((variant) => variant.title === "steps");
    expect(JSON.stringify(steps?.properties.params)).toContain('"delayMs"');
    // Routes whose body kiln parses itself still document it as JSON.
    expect(spec.paths["/tasks/{id}/pause"]?.post?.requestBody?.content["application/json"]).toBeDefined();
  });
});

describe("token in a host app", () => {
  test("guards kiln's routes only, never the host's own", async () => {
    const host = new Elysia()
      .get("/host", () => "host route")
      .use(new Elysia({ prefix: "/jobs" }).use(kilnRoutes(server.manager, { token: TOKEN })))
      .listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${host.server?.port}`;
      expect(await (await fetch(`${base}/host`)).text()).toBe("host route");
      expect((await fetch(`${base}/jobs/health`)).status).toBe(200);
      expect((await fetch(`${base}/jobs/tasks`)).status).toBe(401);
      expect((await fetch(`${base}/jobs/tasks`, bearer(TOKEN))).status).toBe(200);
    } finally {
      await host.stop(true);
    }
  });
});

describe("tokenMatcher", () => {
  test("is true only for the same string", () => {
    const tokenMatches = (presented: string, expected: string) => tokenMatcher(expected)(presented);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches("", TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.toUpperCase(), TOKEN)).toBe(false);
  });
});
