// A result or checkpoint state that JSON cannot hold, from a task on a worker thread or in a task
// process, against `kiln serve` in a child process: the task fails with an error naming what is
// wrong, the server goes on (and its neighbours lose nothing), and a restart runs nothing again.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Recipe } from "../fixtures/value-recipe.ts";
import { tempDir } from "../helpers.ts";
import { ALL_OK, serveValues, type TaskJson, type ValuesServer } from "./serve-values.ts";

const dir = tempDir("kiln-values-");
let server: ValuesServer;

beforeAll(async () => {
  server = await serveValues(dir.path);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  dir.remove();
});

/** Each unstorable value, with the words its error must contain. */
const RESULTS: Array<[string, Recipe, string[]]> = [
  ["a BigInt", { object: [["n", { bigint: "10" }]] }, ["BigInt", "$.n"]],
  ["a cycle", { cycle: { json: 1 } }, ["cycle", "$.self"]],
  ["a function", { object: [["fn", { fn: true }]] }, ["function", "$.fn"]],
  ["a symbol", { array: [{ symbol: true }] }, ["symbol", "$[0]"]],
  ["NaN", { object: [["ratio", { number: "NaN" }]] }, ["NaN", "$.ratio"]],
  ["Infinity", { array: [{ number: "Infinity" }] }, ["Infinity", "$[0]"]],
  ["undefined in an array", { array: [{ json: 1 }, { undefined: true }] }, ["undefined", "$[1]"]],
  ["a value 200 levels deep", { deep: 200 }, ["deeper than 128"]],
  ["a Map", { object: [["values", { map: [["a", { json: 1 }]] }]] }, ["Map", "$.values"]],
  ["a getter that throws", { throwingGetter: true }, ["threw", "the getter blew up"]],
];

const STATES: Array<[string, Recipe, string[]]> = [
  ["a BigInt", { object: [["offset", { bigint: "123456789012345678901234567890" }]] }, ["BigInt"]],
  ["a cycle", { cycle: { json: "x" } }, ["cycle"]],
];

describe.each(["value", "value-process"])("task %s", (name) => {
  test.each(RESULTS)(
    "a result holding %s fails the task, names the problem; the server goes on",
    async (_, recipe, words) => {
      const neighbour = await server.create("steps", { steps: 40, delayMs: 2 });
      const task = await server.create(name, { result: recipe });
      const failed = await server.ended(task.id);
      expect(failed.status).toBe("FAILED");
      expect(failed.error?.name).toBe("ResultNotSerialisable");
      expect(failed.error?.retryable).toBe(false);
      for (const word of words) expect(failed.error?.message).toContain(word);
      expect(failed.result).toBeNull();

      const healthy = await server.ended(neighbour.id);
      expect(healthy.status).toBe("FINISHED");
      expect((await server.logs(neighbour.id)).length).toBe(40);
      expect(await server.views(task.id)).toEqual(ALL_OK);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    },
  );

  test.each(STATES)(
    "a checkpoint state holding %s fails the task with the call's TypeError",
    async (_, recipe, words) => {
      const task = await server.create(name, {
        states: [{ json: { offset: 1 } }, recipe],
        result: { json: "done" },
      });
      const failed = await server.ended(task.id);
      expect(failed.status).toBe("FAILED");
      expect(failed.error?.name).toBe("TaskValueError");
      expect(failed.error?.message).toStartWith("checkpoint state is not JSON");
      for (const word of words) expect(failed.error?.message).toContain(word);
      // The checkpoint() call itself threw, with the same error, where the task could see it.
      const outcomes = (await server.logs(task.id)).find((line) => line.message.startsWith("outcomes "));
      expect(outcomes?.message).toContain('"name":"TaskValueError"');
      expect(await server.views(task.id)).toEqual(ALL_OK);
    },
  );

  test("a progress() refused for its message throws at the call and leaves the last good report", async () => {
    const task = await server.create(name, {
      // The first report is sent at once, the second waits for the next send (50 ms), and the
      // third, refused, comes while the second still waits.
      progress: [
        { done: { json: 3 } },
        { done: { json: 4 } },
        { done: { json: 7 }, message: { throwingString: true } },
      ],
      result: { json: "done" },
    });
    const finished = await server.ended(task.id);
    expect(finished.status).toBe("FINISHED");
    // Neither the refused call's done nor its message: the report before it, as it was.
    expect(finished.progress).toMatchObject({ done: 4, total: null, message: null });
    const outcomes = (await server.logs(task.id)).find((line) => line.message.startsWith("outcomes "));
    expect(outcomes?.message).toContain('"name":"TaskValueError"');
    expect(await server.views(task.id)).toEqual(ALL_OK);
  });
});

test("a state refused at a pause fails the task rather than pausing it, and keeps the last good state", async () => {
  const task = await server.create("bad-state-at-pause", { steps: 2_000 });
  // Past its first (good) state, which is saved at once.
  for (;;) {
    const current = (await (await fetch(`${server.url}/tasks/${task.id}`)).json()) as TaskJson;
    if ((current.progress?.done ?? 0) >= 3) break;
    await Bun.sleep(10);
  }
  const paused = await fetch(`${server.url}/tasks/${task.id}/pause`, { method: "POST" });
  expect(paused.status).toBe(202);
  const failed = await server.ended(task.id);
  expect(failed.status).toBe("FAILED");
  expect(failed.error).toMatchObject({
    name: "TaskValueError",
    message: expect.stringContaining("checkpoint state is not JSON: a BigInt at $.step"),
    retryable: false,
  });
  expect(await server.views(task.id)).toEqual(ALL_OK);
  const db = new Database(server.dbPath, { readonly: true });
  const row = db
    .query<{ checkpoint: string }, [string]>("SELECT checkpoint FROM tasks WHERE id = ?")
    .get(task.id);
  db.close();
  expect(row?.checkpoint).toBe('{"step":0}');
});

test("the server is alive after all of them, and a restart runs none of them again", async () => {
  expect(server.proc.exitCode).toBeNull();
  const before = (await (await fetch(`${server.url}/tasks?limit=500`)).json()) as {
    items: Array<{ id: string; status: string }>;
  };
  expect(before.items.filter((task) => task.status === "RUNNING" || task.status === "PENDING")).toEqual([]);
  expect(await server.stop("SIGTERM")).toBe(0);
  server = await serveValues(dir.path);
  const after = (await (await fetch(`${server.url}/tasks?limit=500`)).json()) as typeof before;
  expect(after.items.map((task) => [task.id, task.status])).toEqual(
    before.items.map((task) => [task.id, task.status]),
  );
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
});
