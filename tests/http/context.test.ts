import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EventJson, TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { body, startServer, type TestServer } from "./server.ts";

const CONTEXT_TASKS = new URL("../fixtures/context-tasks.ts", import.meta.url);
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

interface Page<T> {
  items: T[];
  nextCursor: unknown;
  context?: unknown;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ concurrency: 4 });
  await server.manager.load(CONTEXT_TASKS);
});
afterAll(async () => {
  await server.stop();
});

async function create(json: unknown, headers: Record<string, string> = {}): Promise<TaskJson> {
  const response = await server.call("/tasks", { json, headers });
  expect(response.status).toBe(201);
  return body<TaskJson>(response);
}

async function read(id: string): Promise<TaskJson> {
  const response = await server.call(`/tasks/${id}`);
  expect(response.status).toBe(200);
  return body<TaskJson>(response);
}

async function finished(id: string): Promise<TaskJson> {
  await untilStatus(server.manager, id, ["FINISHED", "FAILED"]);
  const task = await read(id);
  expect(task.error).toBeNull();
  expect(task.status).toBe("FINISHED");
  return task;
}

/** The trace id and parent (span) id of a version-00 traceparent. */
function traceParts(traceparent: string | undefined): { traceId: string; spanId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? "");
  if (!match) throw new Error(`not a version 00 traceparent: ${traceparent}`);
  return { traceId: match[1] as string, spanId: match[2] as string };
}

describe("request context", () => {
  test("traceparent and x-request-id are stored, shown, in the history, with the logs and in this.context", async () => {
    const created = await create(
      { name: "context-echo", params: {} },
      { traceparent: TRACEPARENT, "x-request-id": "req-7f3a" },
    );
    const expected = { traceparent: TRACEPARENT, requestId: "req-7f3a" };
    expect(created.context).toEqual(expected);
    expect(created.parentId).toBeNull();

    const task = await finished(created.id);
    expect(task.context).toEqual(expected);
    // Seen inside the worker, read only.
    expect(task.result).toEqual({ context: expected, parentId: null, frozen: true, mutationThrew: true });

    const events = await body<Page<EventJson>>(await server.call(`/tasks/${created.id}/events`));
    const [createEvent, ...others] = events.items;
    expect(createEvent).toMatchObject({ action: "create", to: "PENDING", context: expected });
    expect(others.length).toBeGreaterThan(0);
    for (const event of others) expect(event.context).toBeNull();

    const logs = await body<Page<{ message: string }>>(await server.call(`/tasks/${created.id}/logs`));
    expect(logs.items.map((line) => line.message)).toEqual(["context seen"]);
    expect(logs.context).toEqual(expected);
  });

  test("a request without the headers gives an empty context", async () => {
    const task = await finished((await create({ name: "context-echo" })).id);
    expect(task.context).toEqual({});
    expect(task.result).toMatchObject({ context: {}, parentId: null });
  });

  test("an invalid traceparent is ignored, and so is a request id too long or not printable", async () => {
    const invalid = [
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, // upper case
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      `00-${TRACE_ID}-${"0".repeat(16)}-01`, // all-zero parent id
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`, // version ff
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`, // version 00 has four fields
      `00-${TRACE_ID}-00f067aa0ba902b7`, // no flags
      "not a traceparent",
    ];
    for (const traceparent of invalid) {
      const task = await create({ name: "context-echo" }, { traceparent, "x-request-id": "kept" });
      expect({ traceparent, context: task.context }).toEqual({ traceparent, context: { requestId: "kept" } });
    }
    for (const requestId of ["x".repeat(201), "tab\there"]) {
      const task = await create(
        { name: "context-echo" },
        { traceparent: TRACEPARENT, "x-request-id": requestId },
      );
      expect(task.context).toEqual({ traceparent: TRACEPARENT });
    }
    // A later version may carry more fields: its first four are kept.
    const later = await create(
      { name: "context-echo" },
      { traceparent: `01-${TRACE_ID}-00f067aa0ba902b7-01-more` },
    );
    expect(later.context).toEqual({ traceparent: `01-${TRACE_ID}-00f067aa0ba902b7-01` });
  });

  test("a library user passes the context to submit()", async () => {
    const { task } = await server.manager.submit("context-echo", {}, { context: { requestId: "from-code" } });
    expect(task.requestId).toBe("from-code");
    expect((await finished(task.id)).result).toMatchObject({ context: { requestId: "from-code" } });
  });
});

describe("this.spawn", () => {
  test("creates children that record their parent and continue its trace under new span ids", async () => {
    const parent = await create(
      { name: "spawner", params: { name: "context-echo", paramsList: [{ n: 1 }, { n: 2 }, {}] } },
      { traceparent: TRACEPARENT, "x-request-id": "req-fan-out" },
    );
    const done = await finished(parent.id);
    const { ids } = done.result as { ids: string[] };
    expect(ids).toHaveLength(3);

    const spans = new Set<string>([traceParts(TRACEPARENT).spanId]);
    for (const [index, id] of ids.entries()) {
      const child = await read(id);
      expect(child).toMatchObject({
        name: "context-echo",
        parentId: parent.id,
        params: [{ n: 1 }, { n: 2 }, {}][index],
      });
      expect(child.context.requestId).toBe("req-fan-out");
      const { traceId, spanId } = traceParts(child.context.traceparent);
      expect(traceId).toBe(TRACE_ID);
      expect(child.context.traceparent?.endsWith("-01")).toBe(true); // sampled, as the parent
      spans.add(spanId);
      // The child sees the same inside its own worker.
      expect((await finished(id)).result).toMatchObject({ context: child.context, parentId: parent.id });
      const events = await body<Page<EventJson>>(await server.call(`/tasks/${id}/events`));
      expect(events.items[0]).toMatchObject({
        action: "create",
        actor: "task",
        reason: `spawned by task ${parent.id}`,
        context: child.context,
      });
    }
    // Every child has a span id of its own, none the parent's.
    expect(spans.size).toBe(1 + ids.length);
  });

  test("works from a task process too (the call and its answer over IPC)", async () => {
    const parent = await create(
      { name: "process-spawner", params: { name: "context-echo", paramsList: [{ n: 1 }] } },
      { traceparent: TRACEPARENT },
    );
    const [id] = ((await finished(parent.id)).result as { ids: string[] }).ids;
    const child = await read(id as string);
    expect(child.parentId).toBe(parent.id);
    expect(traceParts(child.context.traceparent).traceId).toBe(TRACE_ID);
  });

  test("a parent without a trace gives its children none", async () => {
    const parent = await create({ name: "spawner", params: { name: "context-echo", paramsList: [{}] } });
    const [id] = ((await finished(parent.id)).result as { ids: string[] }).ids;
    const child = await read(id as string);
    expect(child.parentId).toBe(parent.id);
    expect(child.context).toEqual({});
  });

  test("an unknown name or invalid params reject inside the task with a clear error, and create nothing", async () => {
    const before = (await body<Page<TaskJson>>(await server.call("/tasks?name=context-echo&limit=500"))).items
      .length;

    const unknown = await create({ name: "spawner", params: { name: "no-such-task", paramsList: [{}] } });
    expect((await finished(unknown.id)).result).toEqual({
      refused: {
        name: "SpawnError",
        code: "unknown_task_name",
        message: expect.stringContaining(
          'spawn of "no-such-task" refused: no task is registered under the name "no-such-task"; known names: ',
        ),
        retryable: false,
      },
    });

    const invalid = await create({
      name: "spawner",
      params: { name: "context-echo", paramsList: [{ n: 1 }, { n: "two" }, { n: 3 }] },
    });
    const refused = ((await finished(invalid.id)).result as { refused: { code: string; message: string } })
      .refused;
    expect(refused.code).toBe("invalid_params");
    expect(refused.message).toStartWith(
      'spawn of "context-echo" refused: paramsList[1]: params of "context-echo" do not match its schema: /n ',
    );

    const after = (await body<Page<TaskJson>>(await server.call("/tasks?name=context-echo&limit=500"))).items
      .length;
    expect(after).toBe(before);
  });

  test("a refusal the task does not catch fails it at once (no retry), with the reason", async () => {
    const created = await create({
      name: "spawner",
      params: { name: "no-such-task", paramsList: [{}], rethrow: true },
    });
    await untilStatus(server.manager, created.id, ["FAILED", "FINISHED"]);
    const task = await read(created.id);
    expect(task.status).toBe("FAILED");
    expect(task.attempt).toBe(1);
    expect(task.error).toMatchObject({
      name: "SpawnError",
      message: expect.stringContaining('spawn of "no-such-task" refused: no task is registered'),
      retryable: false,
    });
  });
});
