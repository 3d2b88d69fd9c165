import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServer, type TestServer } from "../http/server.ts";
import { kiln } from "./run.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

describe("health", () => {
  test("exit 0 with the probe's status from a live server, by flag or KILN_URL", async () => {
    expect(await kiln(["health", "--url", server.base])).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
    expect(await kiln(["health", "--ready"], { KILN_URL: server.base })).toEqual({
      code: 0,
      stdout: "ready\n",
      stderr: "",
    });
  });

  test("a server that is not ready yet is exit 1 with --ready", async () => {
    const starting = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) =>
        new URL(request.url).pathname === "/ready"
          ? Response.json({ status: "not_ready" }, { status: 503 })
          : Response.json({ status: "ok" }),
    });
    try {
      const url = `http://127.0.0.1:${starting.port}`;
      expect((await kiln(["health", "--url", url])).code).toBe(0);
      const ready = await kiln(["health", "--ready", "--url", url]);
      expect(ready).toEqual({
        code: 1,
        stdout: "",
        stderr: `kiln: the server at ${url} is not ready (not_ready)\n`,
      });
    } finally {
      await starting.stop(true);
    }
  });

  test("no server is exit 1", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${probe.port}`;
    await probe.stop(true);
    const run = await kiln(["health", "--url", url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toStartWith(`kiln: cannot reach the kiln server at ${url}: `);
  });
});
