// Numbers out of range used to be stored and then make tasks unreadable: a runAt of 1e20 was
// accepted, and from then on the create, every list page holding the row, the task's page and
// stop answered 500 (toISOString of an invalid date); progress(NaN) was stored as done: null, with
// the same effect, even after a restart. Every entry now checks its ranges, and no stored row,
// whatever it holds (written here straight into the SQLite file), makes a read fail.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { LATEST_DATE_MS } from "../../src/index.ts";
import type { CallOutcome } from "../fixtures/value-tasks.ts";
import { tempDir, untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "../http/server.ts";
import { SseReader } from "../http/sse.ts";

const VALUE_TASKS = new URL("../fixtures/value-tasks.ts", import.meta.url);

let server: TestServer | undefined;
let keep: { path: string; remove: () => void } | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  keep?.remove();
  keep = undefined;
});

/** A database directory that survives the server's stop, for a restart on the same file. */
function lastingDir() {
  const dir = tempDir("kiln-range-");
  keep = dir;
  return { path: dir.path, remove: () => {} };
}

async function start(dir = lastingDir()): Promise<TestServer> {
  server = await startServer({}, {}, dir);
  await server.manager.load(VALUE_TASKS);
  return server;
}

async function views(id: string): Promise<Record<string, number>> {
  if (!server) throw new Error("no server");
  const statuses: Record<string, number> = {};
  for (const [view, path] of Object.entries({
    task: `/tasks/${id}`,
    events: `/tasks/${id}/events`,
    logs: `/tasks/${id}/logs`,
    list: "/tasks?limit=500",
  })) {
    statuses[view] = (await server.call(path)).status;
  }
  return statuses;
}
const ALL_OK = { task: 200, events: 200, logs: 200, list: 200 };

describe("POST /tasks and the library refuse a runAt, priority or option out of range", () => {
  test.each([
    ["1e20", 1e20],
    ["one past year 9999", LATEST_DATE_MS + 1],
    ["a zone that moves 9999-12-31 into year 10000", "9999-12-31T23:59:59.999-01:00"],
    ["a negative time", -1],
  ])("runAt %s is a 422 and nothing is stored", async (_, runAt) => {
    const { call, manager } = await start();
    const response = await call("/tasks", { json: { name: "echo", params: { value: 1 }, runAt } });
    expect(response.status).toBe(422);
    const { error } = await body<ApiError>(response);
    expect(error.code).toBe("validation");
    expect(error.message).toContain("runAt");
    expect((await manager.list()).items).toEqual([]);
  });

  test("the last millisecond of year 9999 is accepted and shown", async () => {
    const { call } = await start();
    const created = await call("/tasks", {
      json: { name: "echo", params: { value: 1 }, runAt: LATEST_DATE_MS },
    });
    expect(created.status).toBe(201);
    const task = await body<TaskJson>(created);
    expect(task.runAt).toBe("9999-12-31T23:59:59.999Z");
    expect(await views(task.id)).toEqual(ALL_OK);
    expect((await call(`/tasks/${task.id}/stop`, { method: "POST" })).status).toBe(200);
  });

  test("create() and submit() check runAt, priority, tags, keys and params as the API does", async () => {
    const { manager } = await start();
    const refusals: Array<[Parameters<typeof manager.create>[2], string]> = [
      [{ runAt: 1e20 }, "runAt"],
      [{ runAt: new Date(Number.NaN) }, "runAt"],
      [{ runAt: new Date(8.64e15) }, "runAt"],
      [{ priority: 1.5 }, "priority"],
      [{ priority: 2 ** 40 }, "priority"],
      [{ tags: [42 as unknown as string] }, "tags"],
      [{ idempotencyKey: "" }, "idempotencyKey"],
    ];
    for (const [options, field] of refusals) {
      await expect((async () => manager.create("echo", { value: 1 }, options))()).rejects.toThrow(
        expect.objectContaining({
          code: "validation",
          httpStatus: 422,
          message: expect.stringContaining(field),
        }),
      );
      await expect(manager.submit("echo", { value: 1 }, options)).rejects.toMatchObject({ httpStatus: 422 });
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const [value, word] of [
      [10n, "BigInt"],
      [cycle, "cycle"],
      [() => 1, "function"],
      [Number.NaN, "NaN"],
    ] as const) {
      await expect((async () => manager.create("echo", { value }))()).rejects.toThrow(
        expect.objectContaining({
          code: "invalid_params",
          httpStatus: 422,
          message: expect.stringContaining(word),
        }),
      );
    }
    expect((await manager.list()).items).toEqual([]);
  });
});

describe("progress() refuses what no page could show", () => {
  test.each([
    ["NaN", { number: "NaN" }, undefined, "done must be a finite number ≥ 0, got NaN"],
    ["Infinity", { number: "Infinity" }, undefined, "done must be a finite number ≥ 0, got Infinity"],
    ["a negative done", { json: -1 }, undefined, "done must be a finite number ≥ 0, got -1"],
    ["a string", { json: "5" }, undefined, 'done must be a finite number ≥ 0, got "5"'],
    ["a NaN total", { json: 1 }, { number: "NaN" }, "total must be a finite number ≥ 0, got NaN"],
    ["done over total", { json: 150 }, { json: 100 }, "done (150) is more than total (100)"],
  ])(
    "progress with %s throws a TaskValueError at the call, and the task stays readable",
    async (_, done, total, message) => {
      const { manager } = await start();
      const plan = {
        progress: [
          { done: { json: 1 }, total: { json: 10 } },
          { done, ...(total ? { total } : {}) },
        ],
      };
      const task = (await manager.create("value", plan)).task;
      const finished = await untilStatus(manager, task.id, ["FINISHED", "FAILED"]);
      expect(finished.status).toBe("FINISHED");
      const line = (await manager.logs(task.id)).items.find((log) => log.message.startsWith("outcomes "));
      const outcomes = JSON.parse(line?.message.slice("outcomes ".length) ?? "[]") as CallOutcome[];
      expect(outcomes).toEqual([
        { call: "progress", index: 0, error: null },
        {
          call: "progress",
          index: 1,
          error: { name: "TaskValueError", message: expect.stringContaining(message) },
        },
      ]);
      // The last good report stands (a bad one would have replaced its total or message), and a
      // FINISHED task's progress is completed to its total.
      expect(finished.progress).toEqual({ done: 10, total: 10, message: null });
      expect(await views(task.id)).toEqual(ALL_OK);
    },
  );
});

/** Column values no version of kiln writes, as a hand edit, a bug or a bad restore could leave. */
const BAD_COLUMNS: Record<string, string | number> = {
  run_at: 1e20,
  created_at: "yesterday",
  start_time: -1e20,
  end_time: 8.64e15 + 1,
  last_run_time: 1.5e300,
  progress: '{"done":null,"total":5,"message":7}',
  result: "{not json",
  error: `${"[".repeat(300)}${"]".repeat(300)}`,
  tags: '"not an array"',
  attempt: "many",
  priority: 2.5,
  status_reason: 42,
};

function writeStraightIntoTheFile(
  dbPath: string,
  id: string,
  columns: Record<string, string | number>,
): void {
  const db = new Database(dbPath);
  db.exec("PRAGMA busy_timeout = 5000");
  const names = Object.keys(columns);
  db.prepare(`UPDATE tasks SET ${names.map((name) => `${name} = ?`).join(", ")} WHERE id = ?`).run(
    ...names.map((name) => columns[name] as string | number),
    id,
  );
  db.close();
}

describe("a row holding anything", () => {
  test("reads as 200 everywhere, with null where a value cannot be shown, and the stream carries it", async () => {
    const { manager, dbPath, call } = await start();
    const task = (await manager.create("echo", { value: 1 }, { paused: true, tags: ["x"] })).task;
    writeStraightIntoTheFile(dbPath, task.id, BAD_COLUMNS);

    const page = await call(`/tasks/${task.id}`);
    expect(page.status).toBe(200);
    const shown = await body<TaskJson>(page);
    expect(shown).toMatchObject({
      id: task.id,
      status: "PAUSED",
      runAt: null,
      createdAt: null,
      startTime: null,
      endTime: null,
      lastRunTime: null,
      progress: null,
      tags: [],
      attempt: 1,
      priority: 0,
      statusReason: "42",
      result: { unreadable: expect.stringContaining("tasks.result holds text that is not JSON") },
      error: { unreadable: "tasks.error nests deeper than 128 levels" },
    });
    expect(await views(task.id)).toEqual(ALL_OK);

    const stream = await call(`/events?task=${task.id}`);
    if (!stream.body) throw new Error("no stream");
    const reader = new SseReader(stream.body);
    const stopped = await call(`/tasks/${task.id}/stop`, { method: "POST" });
    expect(stopped.status).toBe(200);
    const [event] = await reader.collect((message) => message.event === "transition");
    expect(event?.data).toMatchObject({ to: "STOPPED", task: { id: task.id, runAt: null, progress: null } });
    await reader.cancel();
  });

  test("start-up survives it: a task whose params or checkpoint cannot be read fails with why, the rest stays readable", async () => {
    const dir = lastingDir();
    let { manager, dbPath } = await start(dir);
    const running = (await manager.create("echo", { value: 1 }, { paused: true })).task;
    const pending = (await manager.create("echo", { value: 2 }, { paused: true })).task;
    const paused = (await manager.create("echo", { value: 3 }, { paused: true })).task;
    const fine = (await manager.create("echo", { value: 4 }, { paused: true })).task;
    await server?.stop();
    server = undefined;
    writeStraightIntoTheFile(dbPath, running.id, { status: "RUNNING", params: "{oops" });
    writeStraightIntoTheFile(dbPath, pending.id, { status: "PENDING", checkpoint: "[[[", progress: "NaN" });
    writeStraightIntoTheFile(dbPath, paused.id, { checkpoint: "nope", created_at: "then", run_at: 1e20 });
    writeStraightIntoTheFile(dbPath, fine.id, { status: "PENDING" });

    ({ manager, dbPath } = await start(dir));
    const [failedRun, failedPending, done] = await Promise.all([
      untilStatus(manager, running.id, ["FAILED", "FINISHED"]),
      untilStatus(manager, pending.id, ["FAILED", "FINISHED"]),
      untilStatus(manager, fine.id, ["FAILED", "FINISHED"]),
    ]);
    expect(failedRun.error).toEqual({
      name: "UnreadableStoredValue",
      message: expect.stringContaining(
        "its stored params cannot be read: tasks.params holds text that is not JSON",
      ),
      retryable: false,
    });
    expect(failedPending.error).toMatchObject({
      name: "UnreadableStoredValue",
      message: expect.stringContaining("its stored checkpoint cannot be read"),
    });
    expect(done.status).toBe("FINISHED");
    expect((await manager.require(paused.id)).status).toBe("PAUSED");
    for (const id of [running.id, pending.id, paused.id, fine.id]) expect(await views(id)).toEqual(ALL_OK);
  });
});
