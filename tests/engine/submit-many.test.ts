// manager.submitMany(): many tasks of one name in one commit, all or none.
import { afterEach, expect, test } from "bun:test";
import { InvalidParamsError, StorageUnavailableError } from "../../src/index.ts";
import { startRecordingManager } from "../commit-recording-store.ts";
import { untilStatus } from "../helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(concurrency = 2) {
  const { store, manager, reader } = await startRecordingManager(cleanups, concurrency);
  const stored = () => reader.query<{ n: number }, []>("SELECT count(*) AS n FROM tasks").get()?.n ?? 0;
  return { store, manager, stored };
}

test("200 params are one commit of 200 creates; the results come back in order and every task runs", async () => {
  const { store, manager, stored } = await setup();
  const before = store.commits.length;
  const params = Array.from({ length: 200 }, (_, i) => ({ value: i }));
  const results = await manager.submitMany("echo", params, { tags: ["bulk"], priority: 3 });
  expect(store.commits[before]?.filter((written) => written.endsWith(":created"))).toHaveLength(200);
  expect(stored()).toBe(200);
  expect(results.map((result) => result.task.params)).toEqual(params);
  expect(results.every((result) => result.created && result.task.priority === 3)).toBe(true);
  expect(results[0]?.task.tags).toEqual(["bulk"]);
  const finished = await Promise.all(results.map(({ task }) => untilStatus(manager, task.id, ["FINISHED"])));
  expect(finished.map((task) => task.result)).toEqual(params);
});

test("one bad params rejects the whole call with its index, before anything is queued or stored", async () => {
  const { manager, stored } = await setup();
  const heard: string[] = [];
  manager.subscribe((event) => {
    if (event.type === "transition") heard.push(event.task.id);
  });
  const bad = manager.submitMany("echo", [{ value: 0 }, { value: 1 }, { value: 2 }, { nope: 3 }]);
  const error = await bad.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidParamsError);
  expect((error as InvalidParamsError).details).toMatchObject({ issues: [{ path: "/3/value" }] });
  await expect(manager.submitMany("no-such-task", [{}])).rejects.toMatchObject({ code: "unknown_task_name" });
  await expect(manager.submitMany("echo", [{ value: 1 }], { idempotencyKey: "k" } as never)).rejects.toThrow(
    /no idempotencyKey/,
  );
  // A later turn's commit would have written anything left queued.
  await manager.submit("echo", { value: "after" });
  expect(stored()).toBe(1);
  expect(heard.length).toBeGreaterThan(0);
  expect(new Set(heard).size).toBe(1);
});

test("a commit that fails rejects the call, 503, with none of its tasks stored or queued", async () => {
  const { store, manager, stored } = await setup(1);
  store.failCommits = true;
  const error = await manager
    .submitMany(
      "echo",
      Array.from({ length: 10 }, (_, i) => ({ value: i })),
    )
    .catch((e: unknown) => e);
  store.failCommits = false;
  expect(error).toBeInstanceOf(StorageUnavailableError);
  expect((error as StorageUnavailableError).httpStatus).toBe(503);
  expect(stored()).toBe(0);
  expect(manager.stats().queued).toBe(0);
  expect((await manager.submitMany("echo", [{ value: "again" }]))[0]?.created).toBe(true);
});

test("an empty list resolves with no results and writes nothing", async () => {
  const { manager, stored } = await setup();
  expect(await manager.submitMany("echo", [])).toEqual([]);
  expect(stored()).toBe(0);
});
