// POST /task-types/:name/pause and /resume over real HTTP: who asked is recorded from the token,
// the listing shows the pause, a waiting task shows why, and bad input is a clear 4xx.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TaskJson } from "../../src/http/index.ts";
import { untilStatus } from "../helpers.ts";
import { type ApiError, body, startServer, type TestServer } from "./server.ts";

const ADMIN = "pause-admin-token";
const auth = { authorization: `Bearer ${ADMIN}` };

let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { token: ADMIN });
});
afterAll(async () => {
  await server.stop();
});

interface TypeItem {
  name: string;
  paused: { pausedBy: string | null; pausedAt: string; pauseRunning: boolean } | null;
}

const post = (path: string, json?: unknown) =>
  server.call(path, json === undefined ? { method: "POST", headers: auth } : { headers: auth, json });

async function echoType(): Promise<TypeItem> {
  const { items } = await body<{ items: TypeItem[] }>(await server.call("/task-types", { headers: auth }));
  return items.find((item) => item.name === "echo") as TypeItem;
}

test("pause, list, a waiting task's reason, resume", async () => {
  expect((await echoType()).paused).toBeNull();
  const paused = await post("/task-types/echo/pause");
  expect(paused.status).toBe(200);
  const answer = await body<{ name: string; paused: TypeItem["paused"]; runsAskedToPause: number }>(paused);
  expect(answer).toMatchObject({ name: "echo", runsAskedToPause: 0, paused: { pauseRunning: false } });
  expect(typeof answer.paused?.pausedBy).toBe("string");
  expect((await echoType()).paused).toEqual(answer.paused);

  const task = await body<TaskJson>(await post("/tasks", { name: "echo", params: { value: 1 } }));
  await Bun.sleep(300);
  const waiting = await body<TaskJson>(await server.call(`/tasks/${task.id}`, { headers: auth }));
  expect(waiting.status).toBe("PENDING");
  expect(waiting.statusReason).toContain('task name "echo" is paused');

  const resumed = await post("/task-types/echo/resume");
  expect(resumed.status).toBe(200);
  expect(await body(resumed)).toEqual({ name: "echo", wasPaused: true });
  expect((await untilStatus(server.manager, task.id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
  expect((await echoType()).paused).toBeNull();
});

test("an unknown name is a 404 and a bad ?running a 422", async () => {
  const unknown = await post("/task-types/no-such-task/pause");
  expect(unknown.status).toBe(404);
  expect((await body<ApiError>(unknown)).error.message).toContain("no-such-task");
  const bad = await post("/task-types/echo/pause?running=maybe");
  expect(bad.status).toBe(422);
  expect((await echoType()).paused).toBeNull();
});

test("without a token the pause is refused", async () => {
  const response = await server.call("/task-types/echo/pause", { method: "POST" });
  expect(response.status).toBe(401);
});
