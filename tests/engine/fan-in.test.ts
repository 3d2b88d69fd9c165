// Fan-out and fan-in on real workers, on each store: `this.waitFor(ids)` suspends the parent
// (PENDING, awaiting its children, no worker held) and runs it again from its state once every
// child has ended; the resumed run's spawn replays and its waitFor answers at once.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TaskManager } from "../../src/index.ts";
import type { FanOutResult } from "../fixtures/fan-in-tasks.ts";
import { startManager, type TestManager, tempDir, untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreKind } from "../stores.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function managerOn(kind: StoreKind, concurrency = 3): Promise<TestManager> {
  const store = await makeStoreOptions(kind);
  cleanups.push(store.close);
  const env = await startManager({ ...store.options, concurrency, stopGraceMs: 2_000, shutdownGraceMs: 500 });
  cleanups.push(env.close);
  return env;
}

/** How many runs the task began: its history's starts. */
export async function startsOf(manager: TaskManager, id: string): Promise<number> {
  const events = (await manager.events(id, { limit: 500 })).items;
  return events.filter((event) => event.action === "start").length;
}

async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await Bun.sleep(25);
  }
}

describe.each(STORE_KINDS)("waitFor on %s", (kind) => {
  test("the parent waits PENDING without a worker, then resumes once and gets every outcome in order", async () => {
    const { manager } = await managerOn(kind, 2);
    const { task } = await manager.create("fan-out", { count: 6, childMs: 150, fail: [2] });
    const waiting = await manager.waitFor(task.id, (row) => row.awaiting === "children", 20_000);
    expect(waiting.status).toBe("PENDING");
    expect(waiting.statusReason).toContain("waiting for");
    // No worker held: the two slots run children meanwhile.
    const tree = await eventually(
      () => manager.findWithTree(task.id),
      (found) => found.children.total === 6 && (found.children.counts.RUNNING ?? 0) === 2,
    );
    expect(tree.children.counts.RUNNING).toBe(2);
    expect(tree.waitingFor).toHaveLength(6);

    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect(done.status).toBe("FINISHED");
    const result = done.result as FanOutResult;
    expect(result.ids).toEqual(tree.waitingFor);
    expect(result.statuses).toEqual(["FINISHED", "FINISHED", "FAILED", "FINISHED", "FINISHED", "FINISHED"]);
    expect(result.values).toEqual([0, 1, "child 2 failed as asked", 3, 4, 5]);
    expect(await startsOf(manager, task.id)).toBe(2);
    // The resumed run's spawn replayed: still six children.
    expect((await manager.findWithTree(task.id)).children.total).toBe(6);
    const actions = (await manager.events(task.id, { limit: 50 })).items.map((e) => e.action);
    expect(actions).toEqual(["create", "start", "requeue", "requeue", "start", "finish"]);
  });

  test("in a task process too: the call, its answer and the suspension over IPC", async () => {
    const { manager } = await managerOn(kind, 2);
    const { task } = await manager.create("fan-out-process", { count: 3, childMs: 200, fail: [1] });
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect(done.status).toBe("FINISHED");
    expect((done.result as FanOutResult).values).toEqual([0, "child 1 failed as asked", 2]);
    expect(await startsOf(manager, task.id)).toBe(2);
  });

  test("children ended before the call: waitFor answers at once, with no suspension", async () => {
    const { manager } = await managerOn(kind, 3);
    const dir = tempDir("kiln-fan-in-");
    cleanups.push(async () => dir.remove());
    const go = join(dir.path, "go");
    const { task } = await manager.create("fan-out", { count: 2, childMs: 0, waitForFile: go });
    // The parent calls waitFor only once both children have ended, however slow the machine.
    const tree = await eventually(
      () => manager.findWithTree(task.id),
      ({ children }) => children.items.length === 2 && children.items.every((c) => c.status === "FINISHED"),
      30_000,
    );
    expect(tree.children.items.map((c) => c.status)).toEqual(["FINISHED", "FINISHED"]);
    await Bun.write(go, "");
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect(done.status).toBe("FINISHED");
    expect((done.result as FanOutResult).statuses).toEqual(["FINISHED", "FINISHED"]);
    expect(await startsOf(manager, task.id)).toBe(1);
  });

  test("two stages with the ids in the checkpoint: each wait resumes the run once", async () => {
    const { manager } = await managerOn(kind, 3);
    const { task } = await manager.create("fan-two-stages", { count: 3, childMs: 100 });
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect(done.status).toBe("FINISHED");
    expect(done.result).toEqual({
      first: ["FINISHED", "FINISHED", "FINISHED"],
      second: ["FINISHED", "FINISHED", "FINISHED"],
    });
    expect(await startsOf(manager, task.id)).toBe(3);
    expect((await manager.findWithTree(task.id)).children.total).toBe(6);
  });

  test("a task that catches the suspension still waits, and gets the outcome on resume", async () => {
    const { manager } = await managerOn(kind);
    const { task } = await manager.create("fan-catching", { childMs: 300 });
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect(done.result).toEqual({ statuses: ["FINISHED"] });
    expect(await startsOf(manager, task.id)).toBe(2);
  });

  test("ids that are not the task's children are refused with WaitForError", async () => {
    const { manager } = await managerOn(kind);
    const other = await manager.create("echo", { value: 1 });
    const refused = await untilStatus(
      manager,
      (await manager.create("fan-foreign", { ids: [other.task.id, "no-such-id"] })).task.id,
      ["FINISHED", "FAILED"],
    );
    const message = (refused.result as { refused: string }).refused;
    expect(message).toContain("no task has the id no-such-id");
    expect(message).toContain(`${other.task.id} is not a child of this task`);
    const failed = await untilStatus(
      manager,
      (await manager.create("fan-foreign", { ids: [other.task.id], rethrow: true })).task.id,
      ["FINISHED", "FAILED"],
    );
    expect(failed.status).toBe("FAILED");
    expect((failed.error as { name?: string } | null)?.name).toBe("WaitForError");
    expect(failed.retries).toBe(0);
  });

  test("stopping a waiting parent stops its children; stopChildrenWithParent = false keeps them", async () => {
    const { manager } = await managerOn(kind, 2);
    const { task } = await manager.create("fan-out", { count: 4, childMs: 20_000 });
    await manager.waitFor(task.id, (row) => row.awaiting === "children", 20_000);
    await manager.stop(task.id, { reason: "enough" });
    const stopped = await eventually(
      () => manager.findWithTree(task.id),
      (tree) => tree.children.counts.STOPPED === 4,
    );
    expect(stopped.task.status).toBe("STOPPED");
    expect(stopped.children.counts.STOPPED).toBe(4);

    const keep = await manager.create("fan-keep-children", { count: 2, childMs: 1_000 });
    await manager.waitFor(keep.task.id, (row) => row.awaiting === "children", 20_000);
    await manager.stop(keep.task.id);
    const kept = await eventually(
      () => manager.findWithTree(keep.task.id),
      (tree) => tree.children.counts.FINISHED === 2,
    );
    expect(kept.children.counts.FINISHED).toBe(2);
  });

  test("a waiting parent paused stays PAUSED; resumed, it waits again and then runs", async () => {
    const { manager } = await managerOn(kind, 2);
    const { task } = await manager.create("fan-out", { count: 2, childMs: 600 });
    await manager.waitFor(task.id, (row) => row.awaiting === "children", 20_000);
    await manager.pause(task.id);
    // The children end meanwhile; the parent stays paused.
    await eventually(
      () => manager.findWithTree(task.id),
      (tree) => tree.children.counts.FINISHED === 2,
    );
    await Bun.sleep(300);
    expect((await manager.get(task.id))?.status).toBe("PAUSED");
    await manager.resume(task.id);
    const done = await untilStatus(manager, task.id, ["FINISHED", "FAILED"], 30_000);
    expect((done.result as FanOutResult).statuses).toEqual(["FINISHED", "FINISHED"]);
    expect(await startsOf(manager, task.id)).toBe(2);
  });
});
