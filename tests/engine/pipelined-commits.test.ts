// On PostgreSQL the independent writes of one transaction (run ends, the starts of one dispatch,
// the creates of one turn) are sent together, not one round trip each; a write that fails among
// them makes the transaction start again with savepoints, where each part fails alone.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GuardedStore } from "../../src/engine/commit/storage-guard.ts";
import { Unit } from "../../src/engine/commit/unit.ts";
import { EventHub, type ManagerEvent } from "../../src/engine/events.ts";
import { PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { FIXTURE_TASKS, newTaskRow, tempDir, untilStatus } from "../helpers.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  await database.drop();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const createEvent = {
  fromStatus: null,
  toStatus: "PENDING",
  action: "create",
  reason: null,
  actor: null,
  source: null,
} as const;

test("the starts of one dispatch are one transaction, each task with its start event, announced after it", async () => {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const store = new PostgresTaskStore({ url: database.url, max: 4 });
  const manager = new TaskManager({ store, concurrency: 4, logger: silentLogger });
  cleanups.push(() => store.close());
  cleanups.push(() => manager.shutdown());
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  const sql = rawClient(database.url);
  cleanups.push(() => sql.end());
  const started: ManagerEvent[] = [];
  manager.subscribe((event) => {
    if (event.type === "transition" && event.to === "RUNNING") started.push(event);
  });

  const release = join(dir.path, "release");
  // Created in one turn: one commit queues them all, and one dispatch starts them.
  const ids = (
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        manager.create("mark-after", { path: join(dir.path, `mark-${i}`), release }),
      ),
    )
  ).map((created) => created.task.id);
  await Promise.all(ids.map((id) => untilStatus(manager, id, ["RUNNING"])));

  // A row and the event of its start carry the id of the transaction that wrote them.
  const rows = await sql<{ xmin: string }[]>`SELECT xmin::text AS xmin FROM tasks WHERE id IN ${sql(ids)}`;
  const events = await sql<{ xmin: string; task_id: string }[]>`
    SELECT xmin::text AS xmin, task_id FROM task_events WHERE action = 'start' AND task_id IN ${sql(ids)}`;
  expect(rows).toHaveLength(4);
  expect(new Set(rows.map((row) => row.xmin)).size).toBe(1);
  expect(events.map((event) => event.task_id).sort()).toEqual([...ids].sort());
  expect(new Set(events.map((event) => event.xmin))).toEqual(new Set(rows.map((row) => row.xmin)));
  expect(started.map((event) => (event.type === "transition" ? event.task.id : "")).sort()).toEqual(
    [...ids].sort(),
  );

  writeFileSync(release, "go");
  await Promise.all(ids.map((id) => untilStatus(manager, id, ["FINISHED"])));
});

test("parts begun together are all sent before any is awaited; one that fails is redone alone", async () => {
  const guard = new GuardedStore(new PostgresTaskStore({ url: database.url, max: 2 }), silentLogger);
  cleanups.push(() => guard.close());
  await guard.migrate();
  const hub = new EventHub(() => {});
  await guard.createTask(newTaskRow({ idempotencyKey: "taken" }), createEvent);
  const rows = [newTaskRow(), newTaskRow({ idempotencyKey: "taken" }), newTaskRow()];
  const passes: string[][] = [];

  const outcomes = await Unit.run(guard, hub, async (unit) => {
    const trace: string[] = [];
    passes.push(trace);
    const made: string[] = [];
    await unit.each(rows.entries(), async ([i, row]) => {
      trace.push(`begin ${i}`);
      try {
        await unit.attempt((part) => part.tx.createTask(row, createEvent));
        made[i] = "created";
      } catch (error) {
        if (unit.passOn(error)) throw error;
        made[i] = "refused";
      }
      trace.push(`end ${i}`);
    });
    return made;
  });

  // First pass: all three sent together; the refused key spoiled the transaction, so it was
  // made again with a savepoint around each, one after another.
  expect(passes).toHaveLength(2);
  expect(passes[0]?.slice(0, 3)).toEqual(["begin 0", "begin 1", "begin 2"]);
  expect(passes[1]).toEqual(["begin 0", "end 0", "begin 1", "end 1", "begin 2", "end 2"]);
  expect(outcomes).toEqual(["created", "refused", "created"]);
  expect(await guard.getTask(rows[0]?.id ?? "")).toBeDefined();
  expect(await guard.getTask(rows[1]?.id ?? "")).toBeUndefined();
  expect(await guard.getTask(rows[2]?.id ?? "")).toBeDefined();
});
