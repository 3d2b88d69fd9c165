import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { kilnRoutes } from "../../src/http/index.ts";
import { startManager, type TestManager } from "../helpers.ts";

let env: TestManager;
let app: Elysia | undefined;
beforeEach(async () => {
  env = await startManager();
});
afterEach(async () => {
  await app?.stop(true);
  app = undefined;
  await env.close();
});

describe("kilnRoutes mounted in a host app", () => {
  test("serves kiln's routes with kiln's errors and leaves the host's routes alone", async () => {
    const host = new Elysia()
      .get("/host", () => ({ mine: true }))
      .get("/host/fail", ({ set }) => {
        set.status = 418;
        return "teapot";
      })
      .use(kilnRoutes(env.manager))
      .listen({ hostname: "127.0.0.1", port: 0 });
    app = host as unknown as Elysia;
    const base = `http://127.0.0.1:${host.server?.port}`;

    expect(await (await fetch(`${base}/host`)).json()).toEqual({ mine: true });
    const teapot = await fetch(`${base}/host/fail`);
    expect(teapot.status).toBe(418);
    expect(await teapot.text()).toBe("teapot");

    const created = await fetch(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "echo", params: { value: 1 } }),
    });
    expect(created.status).toBe(201);
    const missing = await fetch(`${base}/tasks/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("task_not_found");
    const malformed = await fetch(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("bad_request");
  });

  test("can be mounted under a prefix", async () => {
    const host = new Elysia()
      .group("/api", (group) => group.use(kilnRoutes(env.manager)))
      .listen({ hostname: "127.0.0.1", port: 0 });
    app = host as unknown as Elysia;
    const base = `http://127.0.0.1:${host.server?.port}`;
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    const missing = await fetch(`${base}/api/tasks/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("task_not_found");
  });
});
