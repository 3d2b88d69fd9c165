import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { DASHBOARD_VERSION } from "../../src/dashboard/assets.ts";
import { createKilnApp, kilnRoutes } from "../../src/http/index.ts";
import { startServer, type TestServer } from "./server.ts";

const TOKEN = "headers-test-token";
const ALLOWED = "https://grafana.example.com";
const OTHER = "https://evil.example.net";

const SECURITY = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Only the Access-Control-* headers of a response. */
function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("access-control-")));
}

function expectSecurityHeaders(label: string, response: Response): void {
  const got = Object.fromEntries(Object.keys(SECURITY).map((name) => [name, response.headers.get(name)]));
  expect({ label, ...got }).toEqual({ label, ...SECURITY });
}

describe("security headers", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, { token: TOKEN });
  });
  afterAll(async () => {
    await server.stop();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  test("API answers, errors included, carry them with Cache-Control: no-store", async () => {
    const created = await server.call("/tasks", {
      headers: auth,
      json: { name: "echo", params: { value: 1 } },
    });
    const { id } = (await created.clone().json()) as { id: string };
    const answers: Array<[string, Promise<Response>, number]> = [
      ["POST /tasks", Promise.resolve(created), 201],
      ["GET /tasks/:id", server.call(`/tasks/${id}`, { headers: auth }), 200],
      ["GET /tasks", server.call("/tasks", { headers: auth }), 200],
      ["GET /swagger/json", server.call("/swagger/json", { headers: auth }), 200],
      ["GET /metrics", server.call("/metrics", { headers: auth }), 200],
      ["GET /health", server.call("/health"), 200],
      ["GET / (redirect)", server.call("/", { redirect: "manual" }), 302],
      ["401 without a token", server.call("/tasks"), 401],
      ["404 unknown route", server.call("/no-such-route", { headers: auth }), 404],
      ["404 unknown task", server.call("/tasks/nope", { headers: auth }), 404],
      ["422 bad query", server.call("/tasks?limit=0", { headers: auth }), 422],
      [
        "400 unparsable body",
        server.call("/tasks", {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: "{not json",
        }),
        400,
      ],
    ];
    for (const [label, pending, status] of answers) {
      const response = await pending;
      expect(`${label} ${response.status}`).toBe(`${label} ${status}`);
      expectSecurityHeaders(label, response);
      expect(`${label} ${response.headers.get("cache-control")}`).toBe(`${label} no-store`);
      await response.arrayBuffer();
    }
  });

  test("the dashboard and Swagger pages and assets carry them; the dashboard CSP forbids framing", async () => {
    const page = await server.call("/dashboard");
    expectSecurityHeaders("dashboard", page);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain("kiln dashboard");
    const asset = await server.call(`/dashboard/assets/app.js?v=${DASHBOARD_VERSION}`);
    expectSecurityHeaders("dashboard asset", asset);
    // A versioned asset keeps its own long cache; no-store is only the default.
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    await asset.arrayBuffer();
    for (const path of ["/swagger", "/swagger/assets/init.js", "/swagger/assets/swagger-ui.css"]) {
      const response = await server.call(path);
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expectSecurityHeaders(path, response);
      await response.arrayBuffer();
    }
  });

  test("a host app's own routes are left alone", async () => {
    const host = new Elysia()
      .get("/host", () => "host route")
      .use(kilnRoutes(server.manager, { token: TOKEN }))
      .listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${host.server?.port}`;
      const own = await fetch(`${base}/host`);
      expect(await own.text()).toBe("host route");
      expect(own.headers.get("x-frame-options")).toBeNull();
      expectSecurityHeaders("mounted /tasks", await fetch(`${base}/tasks`, { headers: auth }));
    } finally {
      await host.stop(true);
    }
  });

  test("headers a host app adds after kiln's route are merged into kiln's answers", async () => {
    const host = new Elysia()
      .onAfterHandle({ as: "global" }, ({ set }) => {
        set.headers["x-host-trace"] = "t-1";
      })
      .use(kilnRoutes(server.manager, { token: TOKEN }))
      .listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${host.server?.port}`;
      const created = await fetch(`${base}/tasks`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "echo", params: { value: 2 } }),
      });
      const { id } = (await created.json()) as { id: string };
      for (const [label, response] of [
        ["POST /tasks", created],
        ["GET /tasks/:id", await fetch(`${base}/tasks/${id}`, { headers: auth })],
        ["GET /tasks", await fetch(`${base}/tasks`, { headers: auth })],
      ] as const) {
        expectSecurityHeaders(label, response);
        expect(`${label} ${response.headers.get("x-host-trace")}`).toBe(`${label} t-1`);
        expect(`${label} ${response.headers.get("content-type")}`).toBe(
          `${label} application/json;charset=utf-8`,
        );
      }
      expect(created.status).toBe(201);
    } finally {
      await host.stop(true);
    }
  });
});

describe("CORS", () => {
  const preflight = (base: string, origin: string, path = "/tasks") =>
    fetch(`${base}${path}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  test("off by default: no Access-Control-* header anywhere, a preflight from any origin gets none", async () => {
    const server = await startServer();
    try {
      for (const origin of [ALLOWED, OTHER, "null"]) {
        const pre = await preflight(server.base, origin);
        expect(corsHeaders(pre)).toEqual({});
        expect(pre.status).toBe(404);
        const get = await server.call("/tasks", { headers: { origin } });
        expect(get.status).toBe(200);
        expect(corsHeaders(get)).toEqual({});
        expect(get.headers.get("vary")).toBeNull();
        await Promise.all([pre.arrayBuffer(), get.arrayBuffer()]);
      }
    } finally {
      await server.stop();
    }
  });

  test("an allow-list echoes only its exact origins, with Vary: Origin; preflights list methods and headers", async () => {
    const server = await startServer({}, { token: TOKEN, corsOrigins: [ALLOWED, "http://localhost:5173"] });
    try {
      const pre = await preflight(server.base, ALLOWED, "/tasks/some-id/pause");
      expect(pre.status).toBe(204);
      expect(corsHeaders(pre)).toEqual({
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-methods": "GET, HEAD, POST, DELETE",
        "access-control-allow-headers": "Authorization, Content-Type",
        "access-control-max-age": "600",
      });
      expect(pre.headers.get("vary")).toBe("Origin");

      for (const origin of [OTHER, `${ALLOWED}.evil.net`, ALLOWED.toUpperCase(), `${ALLOWED}:443`, "null"]) {
        const refused = await preflight(server.base, origin);
        expect({ origin, cors: corsHeaders(refused) }).toEqual({ origin, cors: {} });
        const get = await server.call("/tasks", { headers: { origin, authorization: `Bearer ${TOKEN}` } });
        expect({ origin, cors: corsHeaders(get) }).toEqual({ origin, cors: {} });
        expect(get.headers.get("vary")).toBe("Origin");
        await get.arrayBuffer();
      }

      const get = await server.call("/tasks", {
        headers: { origin: "http://localhost:5173", authorization: `Bearer ${TOKEN}` },
      });
      expect(get.status).toBe(200);
      expect(corsHeaders(get)).toEqual({ "access-control-allow-origin": "http://localhost:5173" });
      expect(get.headers.get("vary")).toBe("Origin");
      // A refusal is readable by the allowed page too, so it can ask for a token.
      const refused = await server.call("/tasks", { headers: { origin: ALLOWED } });
      expect(refused.status).toBe(401);
      expect(corsHeaders(refused)).toEqual({ "access-control-allow-origin": ALLOWED });
      await Promise.all([get.arrayBuffer(), refused.arrayBuffer()]);
    } finally {
      await server.stop();
    }
  });

  test("a preflight to a host app's own route is the host's business", async () => {
    const server = await startServer();
    const host = new Elysia()
      .post("/host", () => "host route")
      .use(kilnRoutes(server.manager, { corsOrigins: [ALLOWED] }))
      .listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${host.server?.port}`;
      expect(corsHeaders(await preflight(base, ALLOWED, "/host"))).toEqual({});
      expect(corsHeaders(await preflight(base, ALLOWED, "/tasks"))).toMatchObject({
        "access-control-allow-origin": ALLOWED,
      });
    } finally {
      await host.stop(true);
      await server.stop();
    }
  });

  test("origins that are not exactly scheme://host[:port] are refused when the app is built", async () => {
    const server = await startServer();
    try {
      const build = (origin: string) => () => createKilnApp(server.manager, { corsOrigins: [origin] });
      expect(build("*")).toThrow(/not a URL/);
      expect(build("https://a.example/")).toThrow(/did you mean "https:\/\/a.example"/);
      expect(build("https://a.example/path")).toThrow(/exactly scheme:\/\/host\[:port\]/);
      expect(build("ftp://a.example")).toThrow(/http:\/\/ or https:\/\//);
      expect(build("https://A.example")).toThrow(/did you mean "https:\/\/a.example"/);
      expect(build("https://a.example")).not.toThrow();
    } finally {
      await server.stop();
    }
  });
});
