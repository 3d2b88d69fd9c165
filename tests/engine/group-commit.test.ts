// Worker messages that arrive while the main thread is busy are written in one commit, and what
// that commit holds is announced and acted on only after it.
import { afterEach, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger, TaskManager } from "../../src/index.ts";
import { CommitRecordingStore } from "../commit-recording-store.ts";
import { FIXTURE_TASKS, statusPath, tempDir, untilStatus } from "../helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("four runs that end while the main thread is busy are written in one commit with the next starts", async () => {
  const dir = tempDir();
  const store = new CommitRecordingStore({ path: join(dir.path, "kiln.db") });
  const batches = store.commits;
  const manager = new TaskManager({ store: store.tasks, concurrency: 4, logger: silentLogger });
  cleanups.push(() => dir.remove());
  cleanups.push(() => store.close());
  cleanups.push(() => manager.shutdown());
  await manager.load(FIXTURE_TASKS);
  await manager.start();

  // Each of the first four writes a file as it ends; the main thread, kept busy, waits for them.
  const marks = Array.from({ length: 4 }, (_, i) => join(dir.path, `mark-${i}`));
  const release = join(dir.path, "release");
  const first = await Promise.all(
    await Promise.all(
      marks.map(async (path) => (await manager.create("mark-after", { path, release })).task.id),
    ),
  );
  const next = await Promise.all(
    await Promise.all(
      Array.from(
        { length: 4 },
        async () => (await manager.create("steps", { steps: 1, delayMs: 1 })).task.id,
      ),
    ),
  );
  await Promise.all(first.map((id) => untilStatus(manager, id, ["RUNNING"])));
  const finishedAnnounced: string[] = [];
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "FINISHED") {
      // Announced only after the commit: the row is FINISHED for any reader by then.
      finishedAnnounced.push(`${event.task.id}:${store.getTask(event.task.id)?.status}`);
    }
  });
  const before = batches.length;
  writeFileSync(release, "go");
  // The workers end their runs while this loop holds the main thread; their messages wait.
  const deadline = performance.now() + 20_000;
  while (!marks.every((path) => existsSync(path)) && performance.now() < deadline) {
    // busy
  }
  // From the file to the posted message is a few statements; give them ample time.
  const settleUntil = performance.now() + 100;
  while (performance.now() < settleUntil) {
    // busy
  }
  await Promise.all(first.map((id) => untilStatus(manager, id, ["FINISHED"])));

  const commit = batches.slice(before).find((written) => written.some((w) => w.endsWith(":FINISHED")));
  expect(commit).toBeDefined();
  const finished = commit?.filter((w) => w.endsWith(":FINISHED")).map((w) => w.split(":")[0]);
  const started = commit?.filter((w) => w.endsWith(":RUNNING")).map((w) => w.split(":")[0]);
  expect(finished?.sort()).toEqual([...first].sort());
  expect(started?.sort()).toEqual([...next].sort());
  expect(finishedAnnounced.sort()).toEqual(first.map((id) => `${id}:FINISHED`).sort());

  await Promise.all(next.map((id) => untilStatus(manager, id, ["FINISHED"])));
  for (const id of [...first, ...next])
    expect(await statusPath(manager, id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
});

test("a turn that creates tasks and ends runs makes one commit for both", async () => {
  const dir = tempDir();
  const store = new CommitRecordingStore({ path: join(dir.path, "kiln.db") });
  const manager = new TaskManager({ store: store.tasks, concurrency: 2, logger: silentLogger });
  cleanups.push(() => dir.remove());
  cleanups.push(() => store.close());
  cleanups.push(() => manager.shutdown());
  await manager.load(FIXTURE_TASKS);
  await manager.start();

  // One create a turn while the runs of the earlier ones end, until some twenty have.
  let ended = 0;
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "FINISHED") ended++;
  });
  const made: Promise<string>[] = [];
  const deadline = performance.now() + 20_000;
  while (ended < 20 && performance.now() < deadline) {
    made.push(manager.create("steps", { steps: 1, delayMs: 0 }).then((result) => result.task.id));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ids = await Promise.all(made);
  for (const id of ids) await untilStatus(manager, id, ["FINISHED"]);

  const kinds = (written: string[]) => new Set(written.map((w) => w.split(":")[1]));
  const mixed = store.commits.filter((written) => {
    const of = kinds(written);
    return of.has("created") && of.has("FINISHED");
  });
  // Creates committed apart from the runs' ends would leave this empty.
  expect(mixed.length).toBeGreaterThan(0);
  // Each task was created once, in one commit, and ran once.
  const created = store.commits.flat().filter((w) => w.endsWith(":created"));
  expect(created.sort()).toEqual(ids.map((id) => `${id}:created`).sort());
  for (const id of ids.slice(0, 20))
    expect(await statusPath(manager, id)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
});
