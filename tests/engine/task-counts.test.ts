import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { TASK_STATUSES, type TaskManager } from "../../src/index.ts";
import { type ListTasksQuery, SqliteTaskStore } from "../../src/store/index.ts";
import { startManager, type TestManager, tempDir, untilStatus } from "../helpers.ts";

const managers: TestManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

type Counted = Array<{ status: string; name: string; count: number }>;

function sorted(rows: Counted): Counted {
  return [...rows].sort((a, b) => `${a.status}/${a.name}`.localeCompare(`${b.status}/${b.name}`));
}

/** The truth, counted the slow way on a connection of its own. */
function countedInFile(path: string): Counted {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .query<{ status: string; name: string; count: number }, []>(
        "SELECT status, task_name AS name, count(*) AS count FROM tasks GROUP BY status, task_name",
      )
      .all();
  } finally {
    db.close();
  }
}

async function expectCountsMatchFile(manager: TaskManager, path: string): Promise<void> {
  const file = countedInFile(path);
  expect(sorted(await manager.countByStatusAndName())).toEqual(sorted(file));
  const byStatus = await manager.countByStatus();
  for (const status of Object.keys(byStatus) as (keyof typeof byStatus)[]) {
    const expected = file.filter((row) => row.status === status).reduce((sum, row) => sum + row.count, 0);
    expect(byStatus[status]).toBe(expected);
  }
}

// Compared only when no task is moving: reading the counts awaits, and the engine moves on meanwhile.
test("the in-memory counts follow creates, runs, pauses, stops, restarts, failures and deletes", async () => {
  const m = await startManager({ concurrency: 2 });
  managers.push(m);
  const { manager, dbPath } = m;
  // Some history before the counts are first read: they start from the file.
  const early = (await manager.create("echo", { value: 1 })).task;
  await untilStatus(manager, early.id, ["FINISHED"]);
  await expectCountsMatchFile(manager, dbPath);

  const finished = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
  );
  const held = (await manager.create("steps", { steps: 50, delayMs: 20 }, { paused: true })).task.id;
  const stopped = (await manager.create("steps", { steps: 50, delayMs: 20 })).task.id;
  const failed = (await manager.create("fail", { where: "run" })).task.id;

  await untilStatus(manager, stopped, ["RUNNING"]);
  await manager.stop(stopped);
  await untilStatus(manager, stopped, ["STOPPED"]);
  await untilStatus(manager, failed, ["FAILED"]);
  for (const id of finished) await untilStatus(manager, id, ["FINISHED"]);
  await expectCountsMatchFile(manager, dbPath);

  await manager.restart(stopped);
  await manager.resume(held);
  await untilStatus(manager, held, ["RUNNING"]);
  await manager.pause(held);
  await untilStatus(manager, held, ["PAUSED"]);

  for (const id of finished.slice(0, 3)) await manager.delete(id);
  await manager.delete(failed);
  await manager.stop(held);
  await manager.stop(stopped);
  await untilStatus(manager, stopped, ["STOPPED"]);
  await expectCountsMatchFile(manager, dbPath);
  expect(await manager.countByStatus()).toMatchObject({ FINISHED: 4, FAILED: 0, STOPPED: 2, RUNNING: 0 });
});

test("retention's deletes leave the counts exact", async () => {
  const m = await startManager({
    retainMs: 50,
    retention: { intervalMs: 100, firstPassDelayMs: 100, batchSize: 3, pauseMs: 1 },
  });
  managers.push(m);
  const { manager, dbPath } = m;
  const ids = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
  );
  // Retention may delete the first ones before the last has finished: each ends, or is already gone.
  const ended = async (id: string) => {
    const task = await manager.get(id);
    return task === undefined || task.status === "FINISHED";
  };
  const allEnded = Date.now() + 15_000;
  while (!ids.every(ended) && Date.now() < allEnded) await Bun.sleep(20);
  expect(ids.every(ended)).toBe(true);
  const live = (await manager.create("steps", { steps: 1, delayMs: 0 }, { paused: true })).task.id;
  const deadline = Date.now() + 15_000;
  while (countedInFile(dbPath).some((row) => row.status === "FINISHED") && Date.now() < deadline) {
    await Bun.sleep(50);
  }
  await expectCountsMatchFile(manager, dbPath);
  expect(await manager.countByStatus()).toMatchObject({ FINISHED: 0, PAUSED: 1 });
  expect((await manager.get(live))?.status).toBe("PAUSED");
});

test("a status and a name no task has together give an empty page without a read; every pair agrees with the database", async () => {
  const dir = tempDir();
  const store = new SqliteTaskStore({ path: join(dir.path, "kiln.db") });
  let reads = 0;
  // The store as the engine sees it, counting its list reads; every other call goes straight through.
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "listTasks") {
        return (query: ListTasksQuery) => {
          reads++;
          return target.listTasks(query);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const m = await startManager({ store: counted }, dir);
  managers.push(m);
  const { manager } = m;
  const echoes = await Promise.all(
    Array.from({ length: 3 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
  );
  const failed = (await manager.create("fail", { where: "run" })).task.id;
  for (const id of echoes) await untilStatus(manager, id, ["FINISHED"]);
  await untilStatus(manager, failed, ["FAILED"]);
  await manager.countByStatus();

  reads = 0;
  expect((await manager.list({ status: "FAILED", name: "echo" })).items).toEqual([]);
  expect(reads).toBe(0);
  expect((await manager.list({ status: "FINISHED", name: "echo" })).items).toHaveLength(3);
  expect(reads).toBe(1);
  // A task is found by its pair as soon as its create is answered.
  const paused = (await manager.create("echo", { value: "held" }, { paused: true })).task.id;
  expect((await manager.list({ status: "PAUSED", name: "echo" })).items.map((task) => task.id)).toEqual([
    paused,
  ]);

  for (const status of TASK_STATUSES) {
    for (const name of ["echo", "fail", "steps"]) {
      const query: ListTasksQuery = { status, name };
      const ids = (await manager.list(query)).items.map((task) => task.id);
      expect({ query, ids }).toEqual({
        query,
        ids: (await store.listTasks(query)).items.map((task) => task.id),
      });
    }
  }
});
