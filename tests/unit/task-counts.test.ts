import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { TaskCounts } from "../../src/engine/upkeep/task-counts.ts";
import {
  type NewTaskEvent,
  SqliteSyncStore,
  SqliteTaskStore,
  type TaskRecord,
} from "../../src/store/index.ts";
import type { TaskStatus } from "../../src/task/index.ts";
import { newTaskRow, tempDir } from "../helpers.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

const event: NewTaskEvent = {
  fromStatus: null,
  toStatus: null,
  action: "restore",
  reason: null,
  actor: null,
  source: null,
};

test("the first count, taken in steps, stays exact while tasks change, appear and go in between", async () => {
  const dir = tempDir("kiln-counts-");
  dirs.push(dir);
  const store = new SqliteSyncStore({ path: join(dir.path, "kiln.db"), backgroundCheckpoints: false });
  store.migrate();
  try {
    const ids: string[] = [];
    store.batch(() => {
      for (let i = 0; i < 12_000; i++) {
        const task = store.createTask(
          newTaskRow({ taskName: i % 3 === 0 ? "walk" : "copy", params: null }),
          event,
        );
        ids.push(task.id);
        if (i % 2 === 0) store.transition(task.id, ["PENDING"], { status: "FINISHED" }, event);
      }
    });
    const counts = new TaskCounts(new SqliteTaskStore(store));
    // What the manager does for each committed change: write it, then announce it.
    const move = (task: TaskRecord, to: TaskStatus) => {
      const moved = store.transition(task.id, [task.status], { status: to }, event);
      if (moved)
        counts.observe({
          type: "transition",
          at: 0,
          task: moved,
          from: task.status,
          to,
          action: "start",
          reason: null,
          actor: null,
          source: null,
        });
    };
    const ready = counts.ready(); // its first step has run; the rest follow turn by turn
    const early = store.getTask(ids[1] as string) as TaskRecord; // already counted
    const late = store.getTask(ids[11_001] as string) as TaskRecord; // not reached yet
    move(early, "RUNNING");
    move(late, "RUNNING");
    const created = store.createTask(newTaskRow({ taskName: "walk", params: null }), event);
    counts.observe({
      type: "transition",
      at: 0,
      task: created,
      from: null,
      to: "PENDING",
      action: "create",
      reason: null,
      actor: null,
      source: null,
    });
    for (const id of [ids[0], ids[11_000]] as string[]) {
      const task = store.getTask(id) as TaskRecord;
      expect(store.deleteTask(id)).toBe(true);
      counts.deleted([{ id, status: task.status, name: task.taskName }]);
    }
    await ready;
    // The truth, counted the slow way on a connection of its own.
    const reader = new Database(join(dir.path, "kiln.db"), { readonly: true });
    const truth = reader
      .query<{ status: TaskStatus; name: string; count: number }, []>(
        "SELECT status, task_name AS name, count(*) AS count FROM tasks GROUP BY status, task_name",
      )
      .all();
    reader.close();
    const sorted = (rows: typeof truth) =>
      [...rows].sort((a, b) => `${a.status}/${a.name}`.localeCompare(`${b.status}/${b.name}`));
    expect(sorted(await counts.byStatusAndName())).toEqual(sorted(truth));
    expect(await counts.byStatus()).toMatchObject({ RUNNING: 2, FINISHED: 5_998, PENDING: 5_999 });
    // And after the first count, changes keep applying.
    move(store.getTask(ids[2] as string) as TaskRecord, "STOPPED");
    expect((await counts.byStatus()).STOPPED).toBe(1);
  } finally {
    store.close();
  }
});
