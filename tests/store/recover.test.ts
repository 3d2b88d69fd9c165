// `kiln recover` (recoverDatabase) copies schedules, their fires and the paused task names with
// the tasks, values as stored: an encrypted schedule's params stay the same ciphertext.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { recoverDatabase, SqliteSyncStore } from "../../src/store/index.ts";
import { kiln, lines } from "../cli/run.ts";
import { tempDir } from "../helpers.ts";
import { createEvent, newSchedule, newTask } from "./conformance/harness.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function workDir(): string {
  const dir = tempDir("kiln-recover-");
  cleanups.push(dir.remove);
  return dir.path;
}

/** A database with a task, an encrypted schedule with two fires, an orphaned fire and a paused name. */
function sourceDatabase(path: string, key: string): { taskId: string } {
  const store = new SqliteSyncStore({ path, encryptionKey: key, backgroundCheckpoints: false });
  const task = newTask({ params: { secret: "task" } });
  try {
    store.migrate();
    store.createTask(task, createEvent());
    store.schedules.createSchedule(newSchedule({ id: "nightly", params: { secret: "schedule" } }));
    store.schedules.recordScheduleFire({
      scheduleId: "nightly",
      fireTime: 1_800_000_000_000,
      taskId: task.id,
      skipReason: null,
      waitsFor: null,
      recordedAt: 1_800_000_000_001,
    });
    store.schedules.recordScheduleFire({
      scheduleId: "nightly",
      fireTime: 1_800_000_300_000,
      taskId: null,
      skipReason: "overlap skip: the previous task still runs",
      waitsFor: null,
      recordedAt: 1_800_000_300_001,
    });
    store.schedules.pauseTaskType({
      taskName: "reports",
      pausedBy: "ops",
      pausedAt: 1_800_000_000_000,
      pauseRunning: true,
    });
  } finally {
    store.close();
  }
  // A fire whose schedule is gone (written past the foreign key, as damage could leave it).
  const raw = new Database(path);
  try {
    raw.exec("PRAGMA foreign_keys = OFF");
    raw
      .query(
        "INSERT INTO schedule_fires (schedule_id, fire_time, task_id, skip_reason, waits_for, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run("gone", 1, null, "skipped", null, 2);
  } finally {
    raw.close();
  }
  return { taskId: task.id };
}

const storedScheduleParams = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ params: string }, []>("SELECT params FROM schedules").get()?.params;
  } finally {
    db.close();
  }
};

test("recover copies schedules, their fires and paused task names; a ciphertext stays the same ciphertext", () => {
  const dir = workDir();
  const key = randomBytes(32).toString("base64");
  const source = join(dir, "kiln.db");
  const { taskId } = sourceDatabase(source, key);
  const target = join(dir, "recovered.db");

  const report = recoverDatabase(source, target);
  expect(report.schedules).toEqual({ copied: 1, refused: 0, skipped: [] });
  expect(report.schedule_fires).toEqual({ copied: 2, refused: 1, skipped: [] });
  expect(report.paused_task_types).toEqual({ copied: 1, refused: 0, skipped: [] });
  expect(report.tasks.copied).toBe(1);

  const sealed = storedScheduleParams(source);
  expect(sealed).toStartWith("kiln:v1:");
  expect(storedScheduleParams(target)).toBe(sealed);

  const recovered = new SqliteSyncStore({ path: target, encryptionKey: key, backgroundCheckpoints: false });
  try {
    recovered.verifyReadable();
    expect(recovered.schedules.getSchedule("nightly")).toMatchObject({
      params: { secret: "schedule" },
      priority: 4,
    });
    expect(
      recovered.schedules.listScheduleFires("nightly", 10).map((fire) => [fire.fireTime, fire.taskId]),
    ).toEqual([
      [1_800_000_300_000, null],
      [1_800_000_000_000, taskId],
    ]);
    expect(recovered.schedules.listTaskTypePauses()).toEqual([
      { taskName: "reports", pausedBy: "ops", pausedAt: 1_800_000_000_000, pauseRunning: true },
    ]);
  } finally {
    recovered.close();
  }
});

test("kiln recover says how many schedules, fires and paused names it copied, and which fires it left out", async () => {
  const dir = workDir();
  const source = join(dir, "kiln.db");
  sourceDatabase(source, randomBytes(32).toString("base64"));
  const target = join(dir, "recovered.db");
  const run = await kiln(["recover", "--db", source, "--to", target]);
  expect(run.code).toBe(0);
  expect(lines(run.stdout)).toEqual([
    `kiln: copied 1 tasks, 0 dependencies, 0 searchable param fields, 0 tags, 1 history events, 0 log lines, 1 schedules, 2 schedule fires, 1 paused task names from ${source} into ${target}`,
    "kiln: left out 1 schedule fires (their schedule was not recovered)",
    `kiln: start kiln on the new file: kiln serve --db ${target}`,
  ]);
});

test("kiln recover copies a task's dependencies, its searchable param fields and its tags with it", () => {
  const dir = workDir();
  const source = join(dir, "kiln.db");
  const target = join(dir, "recovered.db");
  const store = new SqliteSyncStore({ path: source, backgroundCheckpoints: false });
  const dependency = newTask({ params: { customer: "c-1" } });
  const dependent = newTask({
    params: { customer: "c-2", order: { id: 7 } },
    tags: ["red", "blue"],
    awaiting: "dependencies",
  });
  try {
    store.migrate();
    store.createTask(dependency, createEvent());
    store.createTask(dependent, createEvent());
    store.dependencies.addAwaited(dependent.id, "dependencies", [dependency.id]);
  } finally {
    store.close();
  }
  // A tag row lost from the source (as an unreadable page would lose it) comes back from the task's tags.
  const damaged = new Database(source);
  damaged.run("DELETE FROM task_tags WHERE tag = 'red'");
  damaged.close();
  const report = recoverDatabase(source, target);
  expect(report.task_dependencies.copied).toBe(1);
  const copied = new Database(target, { readonly: true });
  try {
    expect(copied.query("SELECT task_id, kind, depends_on_id FROM task_dependencies").all()).toEqual([
      { task_id: dependent.id, kind: "dependencies", depends_on_id: dependency.id },
    ]);
    const fields = copied
      .query<{ path: string; value: string }, [string]>(
        "SELECT path, value FROM task_params WHERE task_id = ? ORDER BY path",
      )
      .all(dependent.id);
    expect(fields).toEqual([
      { path: "customer", value: "c-2" },
      { path: "order.id", value: "7" },
    ]);
    expect(report.task_params.copied).toBe(3);
    expect(copied.query("SELECT task_id, tag FROM task_tags ORDER BY tag").all()).toEqual([
      { task_id: dependent.id, tag: "blue" },
      { task_id: dependent.id, tag: "red" },
    ]);
    expect(report.task_tags.copied).toBe(1);
  } finally {
    copied.close();
  }
});
