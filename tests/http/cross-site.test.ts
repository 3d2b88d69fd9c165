// A web page the operator visits can reach a kiln on their machine through the browser. These
// are the requests such a page (or one that rebinds its DNS name to 127.0.0.1) can make.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawRequest } from "./raw-http.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

const ALLOWED_ORIGIN = "https://grafana.example.com";
const CREATE = JSON.stringify({ name: "echo", params: { value: 1 } });

let server: TestServer;
beforeAll(async () => {
  server = await startServer(
    {},
    { corsOrigins: [ALLOWED_ORIGIN], allowedHosts: ["localhost", "127.0.0.1", "[::1]"] },
  );
});
afterAll(async () => {
  await server.stop();
});

const port = () => new URL(server.base).port;
const taskCount = async () => (await server.manager.list({ limit: 500 })).items.length;

async function refusal(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  const { error } = await body<ApiError>(response);
  expect(error.code).toBe(code);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  return error.message;
}

describe("request bodies must be JSON sent as application/json", () => {
  test("a text/plain, form, multipart or untyped body is a 415 and creates nothing", async () => {
    const before = await taskCount();
    const types: Array<string | undefined> = [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonp",
      "application/octet-stream",
      "",
      undefined,
    ];
    for (const type of types) {
      const headers: Record<string, string> = type === undefined ? {} : { "content-type": type };
      // A Uint8Array body: fetch adds no Content-Type of its own.
      const response = await fetch(`${server.base}/tasks`, {
        method: "POST",
        headers,
        body: new TextEncoder().encode(CREATE),
      });
      const message = await refusal(response, 415, "unsupported_media_type");
      expect(message).toContain("Content-Type: application/json");
    }
    expect(await taskCount()).toBe(before);
  });

  test("application/json in any case, with parameters, is accepted", async () => {
    for (const type of ["application/json", "Application/JSON", "application/json; charset=utf-8"]) {
      const response = await fetch(`${server.base}/tasks`, {
        method: "POST",
        headers: { "content-type": type },
        body: CREATE,
      });
      expect(response.status).toBe(201);
    }
  });

  test("a request without a body needs no Content-Type: control actions and deletes work", async () => {
    const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
    const resumed = await fetch(`${server.base}/tasks/${task.id}/resume`, { method: "POST" });
    expect(resumed.status).toBe(200);
    const ended = await server.manager.waitFor(task.id, (current) => current.status === "FINISHED");
    expect(ended.status).toBe("FINISHED");
    expect((await fetch(`${server.base}/tasks/${task.id}`, { method: "DELETE" })).status).toBe(204);
    // A DELETE or control POST with a body of another type is refused like a create.
    const other = (await server.manager.create("echo", { value: 2 }, { paused: true })).task;
    const typed = await fetch(`${server.base}/tasks/${other.id}/stop`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"reason":"x"}',
    });
    await refusal(typed, 415, "unsupported_media_type");
    expect((await server.manager.require(other.id)).status).toBe("PAUSED");
    const deleted = await fetch(`${server.base}/tasks/${other.id}`, {
      method: "DELETE",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    await refusal(deleted, 415, "unsupported_media_type");
  });
});

describe("requests that change something, from a page on another site", () => {
  const json = { "content-type": "application/json" };

  test("an Origin that is neither the server's nor on the CORS list is a 403, and nothing changes", async () => {
    const before = await taskCount();
    for (const origin of [
      "https://evil.example",
      "null",
      `http://127.0.0.1:${Number(port()) + 1}`,
      "garbage",
    ]) {
      const response = await fetch(`${server.base}/tasks`, {
        method: "POST",
        headers: { ...json, origin },
        body: CREATE,
      });
      const message = await refusal(response, 403, "cross_site_request");
      expect(message).toContain("--cors-origin");
    }
    const { task } = await server.manager.create("echo", { value: 3 }, { paused: true });
    const stop = await fetch(`${server.base}/tasks/${task.id}/stop`, {
      method: "POST",
      headers: { origin: "https://evil.example" },
    });
    await refusal(stop, 403, "cross_site_request");
    const remove = await fetch(`${server.base}/tasks/${task.id}`, {
      method: "DELETE",
      headers: { "sec-fetch-site": "cross-site" },
    });
    await refusal(remove, 403, "cross_site_request");
    expect((await server.manager.require(task.id)).status).toBe("PAUSED");
    expect(await taskCount()).toBe(before + 1);
  });

  test("Sec-Fetch-Site: cross-site without an Origin is refused too", async () => {
    const response = await fetch(`${server.base}/tasks`, {
      method: "POST",
      headers: { ...json, "sec-fetch-site": "cross-site" },
      body: CREATE,
    });
    await refusal(response, 403, "cross_site_request");
  });

  test("the server's own origin, an allowed CORS origin, and clients that send neither pass", async () => {
    const own = [`http://127.0.0.1:${port()}`, `https://127.0.0.1:${port()}`];
    for (const headers of [
      { ...json, origin: own[0] as string, "sec-fetch-site": "same-origin" },
      { ...json, origin: own[1] as string },
      { ...json, origin: ALLOWED_ORIGIN, "sec-fetch-site": "cross-site" },
      { ...json, "sec-fetch-site": "same-origin" },
      { ...json, "sec-fetch-site": "none" },
      json,
    ]) {
      const response = await fetch(`${server.base}/tasks`, { method: "POST", headers, body: CREATE });
      expect({ headers, status: response.status }).toEqual({ headers, status: 201 });
    }
  });

  test("reads from another site are not refused (navigations, links); they get no CORS headers", async () => {
    const response = await fetch(`${server.base}/tasks`, {
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(
      (await fetch(`${server.base}/dashboard`, { headers: { "sec-fetch-site": "cross-site" } })).status,
    ).toBe(200);
  });
});

describe("the Host allow-list (DNS rebinding)", () => {
  test("a page whose name resolves to 127.0.0.1 is refused with 421, reads and writes alike", async () => {
    const before = await taskCount();
    const rebound = `attacker.example:${port()}`;
    const read = await fetch(`${server.base}/tasks`, { headers: { host: rebound } });
    const message = await refusal(read, 421, "misdirected_request");
    expect(message).toBe(
      `this kiln server does not answer to the host "${rebound}"; it answers to localhost, 127.0.0.1, [::1] (add names with --allowed-hosts)`,
    );
    // Same origin from the page's point of view: Origin and Host agree.
    const write = await fetch(`${server.base}/tasks`, {
      method: "POST",
      headers: { host: rebound, origin: `http://${rebound}`, "content-type": "application/json" },
      body: CREATE,
    });
    await refusal(write, 421, "misdirected_request");
    for (const path of ["/health", "/dashboard", "/swagger/json", "/metrics"]) {
      expect((await fetch(`${server.base}${path}`, { headers: { host: rebound } })).status).toBe(421);
    }
    expect(await taskCount()).toBe(before);
  });

  test("loopback names with any port pass; a request without a usable Host is refused", async () => {
    for (const host of [
      `localhost:${port()}`,
      `127.0.0.1:${port()}`,
      `[::1]:${port()}`,
      "LOCALHOST",
      "127.0.0.1:1",
    ]) {
      expect({ host, status: (await fetch(`${server.base}/tasks`, { headers: { host } })).status }).toEqual({
        host,
        status: 200,
      });
    }
    for (const request of [
      "GET /tasks HTTP/1.0\r\n\r\n",
      "GET /tasks HTTP/1.1\r\nHost: \r\n\r\n",
      "GET /tasks HTTP/1.1\r\nHost: localhost.\r\n\r\n",
      "GET /tasks HTTP/1.1\r\nHost: localhost:99999\r\n\r\n",
      "GET /tasks HTTP/1.1\r\nHost: a b\r\n\r\n",
    ]) {
      const response = await rawRequest(Number(port()), request);
      expect({ request, status: response.status }).toEqual({ request, status: 421 });
      expect((JSON.parse(response.body) as ApiError).error.code).toBe("misdirected_request");
    }
  });
});
