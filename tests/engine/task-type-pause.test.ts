// Pausing a whole task name, on each store: no new task of it starts while paused (PENDING, the
// reason shown), its running tasks pause at a checkpoint with ?running=pause, and the pause
// survives a restart of the manager on the same store.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { UnknownTaskNameError } from "../../src/engine/index.ts";
import { PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { FIXTURE_TASKS, tempDir, untilStatus } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import { STORE_KINDS, type StoreKind } from "../stores.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens managers on one store of `kind`, the same each time: a restart is a second `open()`. */
async function storeOf(kind: StoreKind): Promise<{ open: () => Promise<TaskManager> }> {
  const dir = tempDir();
  cleanups.push(async () => dir.remove());
  const database = kind === "postgres" ? await testDatabase() : undefined;
  if (database) cleanups.push(() => database.drop());
  return {
    open: async () => {
      const store = database ? new PostgresTaskStore({ url: database.url, max: 4 }) : undefined;
      const manager = new TaskManager({
        ...(store ? { store } : { db: join(dir.path, "kiln.db") }),
        concurrency: 2,
        logger: silentLogger,
      });
      cleanups.push(async () => {
        await manager.shutdown();
        await store?.close();
      });
      await manager.load(FIXTURE_TASKS);
      await manager.start();
      return manager;
    },
  };
}

/** Still PENDING after a while in which it would have finished many times over. */
async function staysPending(manager: TaskManager, id: string): Promise<string | null> {
  await Bun.sleep(400);
  const task = await manager.require(id);
  expect(task.status).toBe("PENDING");
  return task.statusReason;
}

describe.each(STORE_KINDS)("pausing a task name on %s", (kind) => {
  test("no new task of a paused name starts; other names run; resume lets them go", async () => {
    const manager = await (await storeOf(kind)).open();
    const { pause } = await manager.pauseTaskType("echo", { actor: "alice" });
    expect(pause).toMatchObject({ taskName: "echo", pausedBy: "alice", pauseRunning: false });
    const waiting = (await manager.create("echo", { value: 1 })).task;
    const other = (await manager.create("steps", { steps: 1, delayMs: 1 })).task;
    await untilStatus(manager, other.id, ["FINISHED"]);
    expect(await staysPending(manager, waiting.id)).toMatch(/^task name "echo" is paused by alice since /);
    expect(await manager.taskTypePauses()).toEqual([pause]);
    // Held back by the pause, it still counts as queued.
    expect(manager.stats().queued).toBe(1);
    expect(await manager.resumeTaskType("echo", { actor: "bob" })).toBe(true);
    expect((await untilStatus(manager, waiting.id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
    expect(await manager.taskTypePauses()).toEqual([]);
    expect(await manager.resumeTaskType("echo")).toBe(false);
  });

  test("the pause survives a restart of the manager on the same store", async () => {
    const store = await storeOf(kind);
    const first = await store.open();
    await first.pauseTaskType("echo", { actor: "alice" });
    const waiting = (await first.create("echo", { value: 1 })).task;
    await first.shutdown();
    const second = await store.open();
    expect(await staysPending(second, waiting.id)).toMatch(/^task name "echo" is paused by alice/);
    expect((await second.taskTypePauses()).map((pause) => pause.taskName)).toEqual(["echo"]);
    await second.resumeTaskType("echo");
    expect((await untilStatus(second, waiting.id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
  });

  test("running=pause pauses the running tasks at their next checkpoint; resuming the name resumes them", async () => {
    const manager = await (await storeOf(kind)).open();
    const running = (await manager.create("steps", { steps: 200, delayMs: 20 })).task;
    await untilStatus(manager, running.id, ["RUNNING"]);
    const { runsAskedToPause } = await manager.pauseTaskType("steps", { actor: "alice", running: "pause" });
    expect(runsAskedToPause).toBe(1);
    const paused = await untilStatus(manager, running.id, ["PAUSED"]);
    expect(paused.statusReason).toBe('task name "steps" paused');
    await manager.resumeTaskType("steps");
    expect((await untilStatus(manager, running.id, ["RUNNING", "FINISHED"])).status).not.toBe("PAUSED");
    await manager.stop(running.id);
  });

  test("an unknown task name is refused", async () => {
    const manager = await (await storeOf(kind)).open();
    expect(() => manager.pauseTaskType("no-such-task")).toThrow(UnknownTaskNameError);
  });
});
