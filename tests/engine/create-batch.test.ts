// manager.submit(): the creates of one event-loop turn share one commit, and each settles after it.
import { afterEach, expect, test } from "bun:test";
import { type CreateResult, SqliteSyncStore, StorageUnavailableError } from "../../src/index.ts";
import { startRecordingManager } from "../commit-recording-store.ts";
import { statusPath, untilStatus } from "../helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(concurrency = 2) {
  const { store, manager, reader, path } = await startRecordingManager(cleanups, concurrency);
  const committed = (id: string) =>
    reader.query<{ n: number }, [string]>("SELECT count(*) AS n FROM tasks WHERE id = ?").get(id)?.n === 1;
  return { store, manager, committed, path };
}

test("fifty submits in one turn are one commit; each resolves after it, and runs", async () => {
  const { store, manager, committed } = await setup();
  const heardBeforeCommit: string[] = [];
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "PENDING" && !committed(event.task.id)) {
      heardBeforeCommit.push(event.task.id);
    }
  });
  const before = store.commits.length;
  const promises = Array.from({ length: 50 }, (_, i) => manager.submit("echo", { value: i }));
  // Nothing is written until the turn ends.
  expect(store.commits.length).toBe(before);
  const results = await Promise.all(promises);
  expect(store.commits[before]?.filter((written) => written.endsWith(":created"))).toHaveLength(50);
  expect(results.every((result) => result.created)).toBe(true);
  for (const { task } of results) expect(committed(task.id)).toBe(true);
  expect(heardBeforeCommit).toEqual([]);
  const finished = await Promise.all(results.map(({ task }) => untilStatus(manager, task.id, ["FINISHED"])));
  expect(finished.map((task) => task.result)).toEqual(results.map((_, i) => ({ value: i })));
  expect(await statusPath(manager, results[0]?.task.id ?? "")).toEqual(["PENDING", "RUNNING", "FINISHED"]);
});

test("a submit that fails on its own rejects alone; an idempotency key seen earlier in the turn returns that task", async () => {
  const { manager } = await setup();
  const settled = await Promise.allSettled([
    manager.submit("echo", { value: "a" }, { idempotencyKey: "k" }),
    manager.submit("no-such-task", {}),
    manager.submit("echo", { wrong: true }),
    manager.submit("echo", { value: "a" }, { idempotencyKey: "k" }),
    manager.submit("echo", { value: "c" }),
    manager.submit("echo", { value: "b" }, { idempotencyKey: "k" }),
  ]);
  expect(settled.map((outcome) => outcome.status)).toEqual([
    "fulfilled",
    "rejected",
    "rejected",
    "fulfilled",
    "fulfilled",
    "rejected",
  ]);
  const value = (i: number) => (settled[i] as PromiseFulfilledResult<CreateResult>).value;
  const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason as { code?: string };
  expect(reason(1).code).toBe("unknown_task_name");
  expect(reason(2).code).toBe("invalid_params");
  expect(reason(5).code).toBe("idempotency_conflict");
  expect(value(0).created).toBe(true);
  expect(value(3)).toMatchObject({ created: false, task: { id: value(0).task.id } });
  expect(value(4).created).toBe(true);
  const ids = (await manager.list({ limit: 10 })).items.map((task) => task.id);
  expect(ids.sort()).toEqual([value(0).task.id, value(4).task.id].sort());
});

test("a commit that fails rejects every submit of its turn, 503, and leaves nothing: no row, no queue entry, no event", async () => {
  const { store, manager } = await setup(1);
  // Keeps the one worker busy, so nothing submitted could start before the commit anyway.
  const blocker = (await manager.create("hold", { ms: 500 })).task;
  await untilStatus(manager, blocker.id, ["RUNNING"]);
  const heard: string[] = [];
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "PENDING") heard.push(event.task.id);
  });
  store.failCommits = true;
  const settled = await Promise.allSettled(
    Array.from({ length: 5 }, (_, i) => manager.submit("echo", { value: i })),
  );
  store.failCommits = false;
  for (const outcome of settled) {
    expect(outcome.status).toBe("rejected");
    const error = (outcome as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).httpStatus).toBe(503);
  }
  expect(heard).toEqual([]);
  expect(manager.stats().queued).toBe(0);
  expect((await manager.list({ limit: 10 })).items.map((task) => task.id)).toEqual([blocker.id]);
  expect((await manager.countByStatus()).PENDING).toBe(0);

  // The next turn's commit works again.
  const after = await manager.submit("echo", { value: "after" });
  expect(after.created).toBe(true);
  expect(manager.stats().queued).toBe(1);
});

test("submits of the turn in which shutdown begins are written before it", async () => {
  const { manager, path } = await setup();
  const promises = [manager.submit("echo", { value: 1 }), manager.submit("echo", { value: 2 })];
  const stopping = manager.shutdown();
  const results = await Promise.all(promises);
  await stopping;
  await expect(manager.submit("echo", { value: 3 })).rejects.toMatchObject({ code: "not_accepting" });
  const reopened = new SqliteSyncStore({ path, backgroundCheckpoints: false });
  try {
    for (const { task } of results) expect(reopened.getTask(task.id)?.taskName).toBe("echo");
  } finally {
    reopened.close();
  }
});

test("a failed commit that held creates and run ends rejects the creates, 503, and writes the ends later", async () => {
  const { store, manager, committed } = await setup();
  let ended = 0;
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "FINISHED") ended++;
  });
  const holdsBoth = (written: string[]) =>
    written.some((w) => w.endsWith(":created")) && written.some((w) => w.endsWith(":FINISHED"));
  // One create a turn while the earlier ones run; commits fail in the middle, until one that held
  // both a create and a run's end has failed.
  const outcomes: Promise<{ id: string } | { error: unknown }>[] = [];
  let failedFrom: number | undefined;
  let failedUntil: number | undefined;
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (failedFrom === undefined && ended >= 10) {
      failedFrom = store.commits.length;
      store.failCommits = true;
    } else if (
      failedFrom !== undefined &&
      failedUntil === undefined &&
      store.commits.slice(failedFrom).some(holdsBoth)
    ) {
      failedUntil = store.commits.length;
      store.failCommits = false;
    } else if (failedUntil !== undefined && ended >= 30) break;
    outcomes.push(
      manager.submit("echo", { value: outcomes.length }).then(
        (result) => ({ id: result.task.id }),
        (error: unknown) => ({ error }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  const settled = await Promise.all(outcomes);
  expect(failedUntil).toBeDefined();
  const failedCommits = store.commits.slice(failedFrom, failedUntil);
  const mixed = failedCommits.filter(holdsBoth);
  expect(mixed.length).toBeGreaterThan(0);
  // Each of its creates was refused with a 503 and left nothing; every create answered is stored and runs.
  const refused = settled.filter((outcome): outcome is { error: unknown } => "error" in outcome);
  expect(refused.length).toBeGreaterThan(0);
  for (const { error } of refused) {
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as StorageUnavailableError).httpStatus).toBe(503);
  }
  const refusedIds = mixed.flatMap((written) =>
    written.filter((w) => w.endsWith(":created")).map((w) => w.split(":")[0] ?? ""),
  );
  for (const id of refusedIds) expect(committed(id)).toBe(false);
  const accepted = settled.filter((outcome): outcome is { id: string } => "id" in outcome);
  for (const { id } of accepted) expect(committed(id)).toBe(true);
  // The ends that failed with them were kept and written once the disk took writes again.
  const keptEnds = mixed.flatMap((written) =>
    written.filter((w) => w.endsWith(":FINISHED")).map((w) => w.split(":")[0] ?? ""),
  );
  for (const id of [...keptEnds, ...accepted.map((outcome) => outcome.id)]) {
    await untilStatus(manager, id, ["FINISHED"]);
    expect(await statusPath(manager, id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
  }
});
