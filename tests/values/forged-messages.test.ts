// A task can post on its worker's port (or its process's IPC channel) itself, skipping the SDK's
// checks. The main thread checks every message again: a bad progress or log message is dropped
// with a line in the task's log, a bad end or state fails the task, and the server goes on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ForgedPost, Forgery } from "../fixtures/value-tasks.ts";
import { tempDir } from "../helpers.ts";
import { ALL_OK, serveValues, type ValuesServer } from "./serve-values.ts";

const dir = tempDir("kiln-forged-");
let server: ValuesServer;

beforeAll(async () => {
  server = await serveValues(dir.path);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  dir.remove();
});

/** Messages only dropped: the task runs on and finishes. */
const DROPPED: Array<[Forgery, string]> = [
  ["log-level", "its log level is unknown"],
  ["log-time", "its log line's time is not a date kiln can show"],
  ["progress-nan", "its progress is not a finite number ≥ 0"],
];

/** Messages about the run's end or state: the run is ended and the task fails. */
const ENDING: Array<[Forgery, string]> = [
  ["checkpoint-text", "its state is not JSON"],
  ["result-deep", "its result nests deeper than 128 levels"],
  ["result-object", "its result is not JSON text but object"],
];

describe.each(["forger", "forger-process"])("task %s", (name) => {
  test.each(DROPPED)("a forged %s message is dropped with a line saying why", async (forge, why) => {
    const task = await server.create(name, { forge });
    const ended = await server.ended(task.id);
    expect(ended.status).toBe("FINISHED");
    const logs = await server.logs(task.id);
    expect(logs).toEqual([{ ...logs[0], level: "warn", message: expect.stringContaining(why) }]);
    expect(logs.some((line) => line.message === "forged")).toBe(false);
    expect(ended.progress).toBeNull();
    expect(await server.views(task.id)).toEqual(ALL_OK);
  });

  test.each(ENDING)("a forged %s message fails the task as a protocol violation", async (forge, why) => {
    const task = await server.create(name, { forge });
    const failed = await server.ended(task.id);
    expect(failed.status).toBe("FAILED");
    expect(failed.error?.name).toBe("ProtocolViolation");
    expect(failed.error?.message).toContain(why);
    expect(failed.result).toBeNull();
    expect(await server.views(task.id)).toEqual(ALL_OK);
  });

  test("a forged failure without an error fails the task with a readable one", async () => {
    const task = await server.create(name, { forge: "failed-garbage" });
    const failed = await server.ended(task.id);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toEqual({
      name: "ProtocolViolation",
      message: "the task's worker reported a failure without an error",
      retryable: false,
    });
  });
});

// The worker's runtime posts its messages as JSON text; what else a task posts on the port is
// not parsed into a message, and a forged message as text is checked like one as an object.
describe("task forger, posting on its worker's port", () => {
  const IGNORED: ForgedPost[] = [
    "text-not-json",
    "text-null",
    "text-array",
    "text-too-long",
    "value-null",
    "value-number",
  ];
  test.each(IGNORED)("what is not a message (%s) is no message: the task runs on", async (post) => {
    const task = await server.create("forger", { post });
    const ended = await server.ended(task.id);
    expect(ended.status).toBe("FINISHED");
    expect(ended.result).toEqual({ ok: true });
    expect(await server.logs(task.id)).toEqual([]);
    expect(await server.views(task.id)).toEqual(ALL_OK);
  });

  test("a forged message as JSON text is checked like one posted as an object", async () => {
    const task = await server.create("forger", { post: "text-log-level" });
    const ended = await server.ended(task.id);
    expect(ended.status).toBe("FINISHED");
    const logs = await server.logs(task.id);
    expect(logs).toEqual([
      { ...logs[0], level: "warn", message: expect.stringContaining("its log level is unknown") },
    ]);
  });
});

test("the server answered throughout and is alive", async () => {
  expect(server.proc.exitCode).toBeNull();
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
  const healthy = await server.create("steps", { steps: 5, delayMs: 1 });
  expect((await server.ended(healthy.id)).status).toBe("FINISHED");
});
