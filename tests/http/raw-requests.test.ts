// Requests fetch cannot make, sent bytes for bytes over TCP: no Host, an empty or garbled Host,
// HTTP/1.0, absurd request lines. None may reach Bun's default error page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKilnApp } from "../../src/http/index.ts";
import type { Logger } from "../../src/index.ts";
import { startManager, type TestManager } from "../helpers.ts";
import { rawRequest, serverFaults } from "./raw-http.ts";
import { startServer, type TestServer } from "./server.ts";

const TOKEN = "raw-requests-token";

/** Request heads that carry no usable Host, or whose request line is odd. */
const ODD_REQUESTS: string[] = [
  "GET /nope HTTP/1.0\r\n\r\n",
  "GET /tasks/00000000-0000-7000-8000-000000000000 HTTP/1.0\r\n\r\n",
  "GET /tasks HTTP/1.0\r\n\r\n",
  "POST /tasks HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
  "GET /dashboard/ HTTP/1.0\r\n\r\n",
  "GET /nope HTTP/1.1\r\nHost: \r\n\r\n",
  "GET /tasks HTTP/1.1\r\nHost: \r\n\r\n",
  "GET /nope HTTP/1.1\r\nHost: a b/c\r\n\r\n",
  "GET /nope HTTP/1.1\r\nHost: [zz\r\n\r\n",
  "GET /nope HTTP/1.1\r\nHost: %%%\r\n\r\n",
  "GET /nope HTTP/1.1\r\nHost: localhost:99999999\r\n\r\n",
  `GET /nope HTTP/1.1\r\nHost: ${"h".repeat(4_000)}\r\n\r\n`,
  "GET /nope HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
  "GET /tasks HTTP/1.1\r\n\r\n",
  "GET http://elsewhere.example/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET http://[zz/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET /tasks HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
  "G@T /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET\r\n\r\n",
  "\r\n\r\n",
  "GET /%zz%00/.. HTTP/1.0\r\n\r\n",
];

function portOf(server: TestServer): number {
  return Number(new URL(server.base).port);
}

describe.each([
  ["without a token", {}],
  ["with a token", { token: TOKEN }],
])("requests without a usable Host or with odd request lines, %s", (_label, httpOptions) => {
  let server: TestServer;
  const logged: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message) => {
      logged.push(message);
    },
  };
  beforeAll(async () => {
    server = await startServer({}, { ...httpOptions, logger });
  });
  afterAll(async () => {
    await server.stop();
  });

  test("get kiln's JSON answers, never a 500 or Bun's error page", async () => {
    const faults: string[] = [];
    for (const request of ODD_REQUESTS) {
      const response = await rawRequest(portOf(server), request);
      for (const fault of serverFaults(response))
        faults.push(`${JSON.stringify(request.slice(0, 80))}: ${fault}`);
    }
    expect(faults).toEqual([]);
    expect(logged).toEqual([]);
    // The server still answers an ordinary request.
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
  });

  test("an unknown route without a Host is kiln's 404; a guarded one its 401 when a token is needed", async () => {
    const unknown = await rawRequest(portOf(server), "GET /nope HTTP/1.0\r\n\r\n");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({
      error: { code: "not_found", message: "no route for GET /nope" },
    });
    const guarded = await rawRequest(portOf(server), "GET /tasks/x HTTP/1.0\r\n\r\n");
    const expected = "token" in httpOptions ? 401 : 404;
    expect(guarded.status).toBe(expected);
    const payload = JSON.parse(guarded.body) as { error: { code: string } };
    expect(payload.error.code).toBe(expected === 401 ? "unauthorized" : "task_not_found");
  });
});

describe("an error that escapes kiln's own error handling", () => {
  let env: TestManager;
  let server: { stop(closeActive: boolean): Promise<void>; port: number };
  beforeAll(async () => {
    env = await startManager();
    // A logger that throws makes kiln's error handler throw too: the error reaches Bun.serve.
    const throwing: Logger = {
      debug() {},
      info() {},
      warn() {},
      error() {
        throw new Error("the log is broken");
      },
    };
    const app = createKilnApp(env.manager, { logger: throwing })
      .get("/boom", () => {
        throw new Error("a handler's own fault");
      })
      .listen({ hostname: "127.0.0.1", port: 0 });
    server = {
      stop: async (closeActive) => {
        await app.stop(closeActive);
      },
      port: app.server?.port ?? 0,
    };
  });
  afterAll(async () => {
    await server.stop(true);
    await env.close();
  });

  test("is answered in the JSON error shape by the server's own handler, not Bun's page", async () => {
    const response = await rawRequest(server.port, "GET /boom HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(response.status).toBe(500);
    expect(serverFaults({ ...response, status: 200 })).toEqual([]);
    expect(JSON.parse(response.body)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
  });
});
