// GET /tasks/:id takes a unique prefix of an id, over real HTTP.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { newTaskRow } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const A1 = "0190aaaa-0000-7000-8000-000000000001";
const A2 = "0190aaaa-0000-7000-8000-000000000002";
const B = "0190aaab-0000-7000-8000-000000000001";

/** PAUSED rows with ids chosen so that their prefixes overlap as the test needs. */
function seed(ids: string[]): void {
  for (const id of ids) {
    server.manager.store.createTask(newTaskRow({ id, taskName: "echo", status: "PAUSED" }), {
      fromStatus: null,
      toStatus: "PAUSED",
      action: "create",
      reason: null,
      actor: null,
      source: null,
    });
  }
}

beforeAll(() => seed([A1, A2, B]));

test("a unique prefix of six characters or more reads the task it names", async () => {
  for (const prefix of ["0190aaab", "0190aaab-00", B]) {
    const response = await server.call(`/tasks/${prefix}`);
    expect(response.status).toBe(200);
    expect((await body<TaskJson>(response)).id).toBe(B);
  }
  // A task kiln created: its first 18 characters (time and sequence) name it.
  const { task } = await server.manager.create("echo", { value: 1 });
  const read = await server.call(`/tasks/${task.id.slice(0, 18)}`);
  expect((await body<TaskJson>(read)).id).toBe(task.id);
});

test("an ambiguous prefix is a 409 that says how many tasks match", async () => {
  const response = await server.call("/tasks/0190aaa");
  expect(response.status).toBe(409);
  const { error } = await body<ApiError>(response);
  expect(error).toEqual({
    code: "ambiguous_id",
    message: "the id prefix 0190aaa matches 3 tasks; give more of the id",
    details: { prefix: "0190aaa", matches: 3, atLeast: false },
  });
});

test("no match, or a prefix shorter than six characters, is a 404", async () => {
  for (const [path, id] of [
    ["/tasks/0190aaac", "0190aaac"],
    ["/tasks/0190a", "0190a"],
    ["/tasks/0190aa%25", "0190aa%"],
    ["/tasks/0190AAAB", "0190AAAB"],
  ] as const) {
    const response = await server.call(path);
    expect(response.status).toBe(404);
    expect((await body<ApiError>(response)).error).toMatchObject({
      code: "task_not_found",
      message: `no task with id ${id}`,
    });
  }
});

test("control and delete routes still want the whole id", async () => {
  expect((await server.call("/tasks/0190aaab/resume", { method: "POST" })).status).toBe(404);
  expect((await server.call(`/tasks/${B}/resume`, { method: "POST" })).status).toBe(200);
});
