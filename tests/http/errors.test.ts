import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { rawRequest } from "./raw-http.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
beforeEach(async () => {
  server = await startServer({}, { maxBodyBytes: 64 * 1024 });
});
afterEach(async () => {
  await server.stop();
});

async function expectError(response: Response, status: number, code: string): Promise<ApiError["error"]> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const payload = await body<ApiError>(response);
  expect(Object.keys(payload)).toEqual(["error"]);
  expect(payload.error.code).toBe(code);
  expect(typeof payload.error.message).toBe("string");
  expect(JSON.stringify(payload)).not.toContain("    at ");
  return payload.error;
}

const postRaw = (path: string, raw: string, contentType = "application/json") =>
  server.call(path, { method: "POST", headers: { "content-type": contentType }, body: raw });

describe("error shape and status", () => {
  test("malformed JSON is 400 bad_request", async () => {
    const error = await expectError(await postRaw("/tasks", '{"name": "echo",'), 400, "bad_request");
    expect(error.message).toContain("JSON");
    // Also for the optional body of a control route; a body of another type is a 415.
    const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
    await expectError(await postRaw(`/tasks/${task.id}/resume`, "{oops"), 400, "bad_request");
    await expectError(
      await postRaw("/tasks", "name=echo", "application/x-www-form-urlencoded"),
      415,
      "unsupported_media_type",
    );
  });

  test("an unknown id, task name or route is 404", async () => {
    await expectError(await server.call("/tasks/does-not-exist"), 404, "task_not_found");
    await expectError(await server.call("/tasks/does-not-exist/events"), 404, "task_not_found");
    await expectError(await server.call("/tasks/does-not-exist/logs"), 404, "task_not_found");
    await expectError(
      await server.call("/tasks/does-not-exist", { method: "DELETE" }),
      404,
      "task_not_found",
    );
    const unknown = await expectError(
      await server.call("/tasks", { json: { name: "no-such-task" } }),
      404,
      "unknown_task_name",
    );
    expect(unknown.message).toContain("no-such-task");
    expect((unknown.details as { known: string[] }).known).toEqual(server.manager.registry.names());
    expect((unknown.details as { known: string[] }).known).toContain("echo");
    const route = await expectError(await server.call("/nope"), 404, "not_found");
    expect(route.message).toContain("/nope");
  });

  test("params that fail the task's schema are 422 invalid_params naming the field", async () => {
    const error = await expectError(
      await server.call("/tasks", { json: { name: "steps", params: { steps: "many" } } }),
      422,
      "invalid_params",
    );
    expect(error.message).toContain("/steps");
    const missing = await expectError(
      await server.call("/tasks", { json: { name: "steps", params: {} } }),
      422,
      "invalid_params",
    );
    expect(missing.message).toContain("steps");
  });

  test("wrong body types are 422 validation naming the field and why", async () => {
    const cases: [unknown, string][] = [
      [{ name: 5 }, '"name"'],
      [{}, '"name" is required'],
      [{ name: "echo", priority: "high" }, "priority"],
      [{ name: "echo", priority: 1.5 }, "priority"],
      [{ name: "echo", runAt: "tomorrow" }, "runAt"],
      [{ name: "echo", tags: "a" }, '"tags"'],
      [{ name: "echo", tags: ["x".repeat(65)] }, '"tags[0]"'],
      [{ name: "echo", tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, '"tags"'],
      [{ name: "echo", idempotencyKey: "k".repeat(201) }, '"idempotencyKey"'],
      [["echo"], "body"],
      ["echo", "body"],
      [null, "body"],
    ];
    for (const [json, mention] of cases) {
      const error = await expectError(await server.call("/tasks", { json }), 422, "validation");
      expect(error.message).toContain(mention);
      expect(error.message).not.toContain("\n");
    }
  });

  test("unknown body fields are refused", async () => {
    const error = await expectError(
      await server.call("/tasks", { json: { name: "echo", params: { value: 1 }, prio: 5 } }),
      422,
      "validation",
    );
    expect(error.message).toContain('"prio"');
    expect((await server.manager.list()).items).toHaveLength(0);
  });

  test("bad query values are 422 validation naming the parameter", async () => {
    const cases: [string, string][] = [
      ["/tasks?limit=0", "limit"],
      ["/tasks?limit=501", "limit"],
      ["/tasks?limit=ten", "limit"],
      ["/tasks?status=DONE", "status"],
    ];
    for (const [path, mention] of cases) {
      const error = await expectError(await server.call(path), 422, "validation");
      expect(error.message).toContain(mention);
    }
    const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
    for (const query of ["after=-1", "after=x", "limit=0", "limit=1000"]) {
      const error = await expectError(
        await server.call(`/tasks/${task.id}/events?${query}`),
        422,
        "validation",
      );
      expect(error.message).toContain(query.split("=")[0] as string);
    }
  });

  test("a body over maxBodyBytes is 413, by Content-Length or by its actual size", async () => {
    const huge = JSON.stringify({ name: "echo", params: { value: "x".repeat(100 * 1024) } });
    const declared = await expectError(await postRaw("/tasks", huge), 413, "payload_too_large");
    expect(declared.details).toEqual({ limit: 64 * 1024 });

    // Chunked, so there is no Content-Length to trust: the size is counted while reading.
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name":"echo","params":{"value":"'));
        if (sent >= 8) {
          controller.enqueue(new TextEncoder().encode('"}}'));
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        sent++;
      },
    });
    const chunked = await server.call("/tasks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    await expectError(chunked, 413, "payload_too_large");
    expect((await server.manager.list()).items).toHaveLength(0);
  });

  test("a small Content-Length beside chunked framing does not let a larger body through", async () => {
    // Only a body with a declared length and no other framing is read whole; this one says both.
    const json = JSON.stringify({ name: "echo", params: { value: "x".repeat(100 * 1024) } });
    const chunks = `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`;
    const request =
      "POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
      `Content-Length: 10\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}`;
    const response = await rawRequest(Number(new URL(server.base).port), request);
    expect([400, 413]).toContain(response.status);
    expect((await server.manager.list()).items).toHaveLength(0);
  });

  test("no bad input is ever answered with a 500", async () => {
    const { task } = await server.manager.create("echo", { value: 1 }, { paused: true });
    const id = task.id;
    const inputs: [string, RequestInit][] = [
      ["/tasks", { method: "POST", body: "" }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "" }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "   " }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "null" }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "[1,2]" }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: '"str"' }],
      ["/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "1e999" }],
      ["/tasks", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }],
      [
        "/tasks",
        { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: new Uint8Array([0xff, 0xfe]),
        },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"echo","params":{"value":1},"runAt":-5}',
        },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"echo","runAt":"2024-13-45T99:99:99Z"}',
        },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"echo","priority":1e300}',
        },
      ],
      [
        "/tasks",
        { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"","params":{}}' },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"fail","params":{"where":"nowhere"}}',
        },
      ],
      [
        "/tasks",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"__proto__":{"x":1},"name":"echo"}',
        },
      ],
      ["/tasks", { method: "PUT", body: "{}" }],
      ["/tasks", { method: "PATCH", body: "{}" }],
      ["/tasks?limit=-1&cursor=", {}],
      ["/tasks?cursor=%00%ff", {}],
      [`/tasks?status=${"A".repeat(5000)}`, {}],
      ["/tasks/%E0%A4%A", {}],
      [`/tasks/${"x".repeat(300)}`, {}],
      [`/tasks/${id}/pause?wait=abc`, { method: "POST" }],
      [`/tasks/${id}/explode`, { method: "POST" }],
      [`/tasks/${id}/stop`, { method: "GET" }],
      [`/tasks/${id}/events?after=1e3`, {}],
      [`/tasks/${id}/logs?limit=`, {}],
      ["/events?task=", {}],
      ["/task-types", { method: "POST", body: "{" }],
      ["/health", { method: "DELETE" }],
    ];
    for (const [path, init] of inputs) {
      const response = await server.call(path, init);
      if (response.status >= 500) throw new Error(`${init.method ?? "GET"} ${path} → ${response.status}`);
      expect(response.status).toBeLessThan(500);
      await response.body?.cancel();
    }
  });

  test("a fault of kiln itself is a 500 internal: logged, with no message or stack for the client", async () => {
    const logged = spyOn(console, "error").mockImplementation(() => {});
    try {
      server.manager.list = () => {
        throw new Error("secret detail of the database");
      };
      const error = await expectError(await server.call("/tasks"), 500, "internal");
      expect(error.message).toBe("internal error");
      expect(JSON.stringify(error)).not.toContain("secret");
      expect(logged).toHaveBeenCalledTimes(1);
      expect(JSON.stringify(logged.mock.calls[0])).toContain("GET /tasks");
      expect(JSON.stringify(logged.mock.calls[0])).toContain("secret detail of the database");
    } finally {
      logged.mockRestore();
    }
  });
});
