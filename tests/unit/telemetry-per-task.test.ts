// One task's entries must never cost another task its own. Entries the buffer can tell are bad
// are dropped before they join the shared batch; for a batch the database refuses all the same
// (here, a store that refuses any batch holding one task's entries, as a constraint would), the
// buffer writes each task alone and drops only that task's part.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { EventHub, type ManagerEvent } from "../../src/engine/events.ts";
import { GuardedStore, silentLogger } from "../../src/engine/index.ts";
import { TelemetryBuffer } from "../../src/engine/upkeep/telemetry.ts";
import { SqliteSyncStore, SqliteTaskStore, type TelemetryBatch } from "../../src/store/index.ts";
import type { LogLevel } from "../../src/task/index.ts";
import { newTaskRow, tempDir } from "../helpers.ts";

/** Refuses, with a plain error, every telemetry batch that holds anything of `refused`. */
class RefusingStore extends SqliteSyncStore {
  refused = "";
  batches = 0;
  override writeTelemetry(batch: TelemetryBatch): void {
    this.batches += 1;
    const touches =
      batch.progress.has(this.refused) ||
      batch.checkpoints.has(this.refused) ||
      batch.logs.some((log) => log.taskId === this.refused);
    if (touches) throw new Error("CHECK constraint failed: task_logs_level_check");
    super.writeTelemetry(batch);
  }
}

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

async function setup() {
  const dir = tempDir("kiln-telemetry-");
  dirs.push(dir);
  const inner = new RefusingStore({ path: join(dir.path, "kiln.db") });
  inner.migrate();
  const store = new GuardedStore(new SqliteTaskStore(inner), silentLogger);
  const event = {
    fromStatus: null,
    toStatus: "PENDING" as const,
    action: "create" as const,
    reason: null,
    actor: null,
    source: null,
  };
  const healthy = (await store.createTask(newTaskRow(), event)).id;
  const bad = (await store.createTask(newTaskRow(), event)).id;
  const errors: unknown[] = [];
  const dropped: Array<[string, string]> = [];
  const events: ManagerEvent[] = [];
  const hub = new EventHub(() => {});
  hub.subscribe((e) => events.push(e));
  const buffer = new TelemetryBuffer(
    store,
    hub,
    60_000,
    (error) => errors.push(error),
    (taskId, why) => dropped.push([taskId, why]),
  );
  return { inner, store, buffer, healthy, bad, errors, dropped, events };
}

test("a batch the database refuses is written task by task: only the refused task's entries are lost", async () => {
  const { inner, store, buffer, healthy, bad, errors, dropped, events } = await setup();
  inner.refused = bad;
  for (let i = 0; i < 40; i++) buffer.log(healthy, "info", `healthy ${i}`, 1_000 + i);
  buffer.progress(healthy, { done: 40, total: 40, message: "done" });
  buffer.checkpoint(healthy, { next: 40 });
  buffer.log(bad, "info", "refused line", 1_000);
  buffer.progress(bad, { done: 1, total: null, message: null });
  buffer.checkpoint(bad, { offset: 1 });
  await buffer.flush();

  const lines = (await store.listLogs(healthy, { limit: 500 })).items.map((line) => line.message);
  expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `healthy ${i}`));
  expect(await store.getTask(healthy)).toMatchObject({
    progress: { done: 40, total: 40, message: "done" },
    checkpoint: { next: 40 },
  });
  expect((await store.listLogs(bad, {})).items).toEqual([]);
  expect(await store.getTask(bad)).toMatchObject({ progress: null, checkpoint: null });
  // One shared batch, then one per task.
  expect(inner.batches).toBe(3);
  expect(errors).toHaveLength(1);
  expect(dropped).toEqual([
    [
      bad,
      expect.stringContaining(
        "1 log lines, its progress, its checkpoint state could not be written and were dropped",
      ),
    ],
  ]);
  // The healthy task's progress is announced; the dropped one's is not.
  expect(events.filter((e) => e.type === "progress").map((e) => (e as { taskId: string }).taskId)).toEqual([
    healthy,
  ]);

  // The next tick goes back to one shared batch.
  inner.refused = "";
  buffer.log(bad, "info", "later", 2_000);
  buffer.log(healthy, "info", "later", 2_000);
  await buffer.flush();
  expect(inner.batches).toBe(4);
  expect((await store.listLogs(bad, {})).items.map((line) => line.message)).toEqual(["later"]);
  await buffer.close();
});

test("entries that cannot be stored are dropped before the batch, and the rest of it is written", async () => {
  const { store, buffer, healthy, bad, errors, dropped } = await setup();
  buffer.log(bad, "fatal" as LogLevel, "unknown level", 1_000);
  buffer.log(bad, "info", "a time that is no date", 1e20);
  buffer.log(bad, "info", 42 as unknown as string, 1_000);
  buffer.progress(bad, { done: Number.NaN, total: 10, message: null });
  buffer.progress(bad, { done: 5, total: 2, message: null });
  buffer.log(healthy, "info", "kept", 1_000);
  await buffer.flush();
  expect((await store.listLogs(healthy, {})).items.map((line) => line.message)).toEqual(["kept"]);
  expect((await store.listLogs(bad, {})).items).toEqual([]);
  expect((await store.getTask(bad))?.progress).toBeNull();
  expect(errors).toEqual([]);
  expect(dropped.map(([id, why]) => [id, why.split(" ").slice(0, 3).join(" ")])).toEqual([
    [bad, "log level fatal"],
    [bad, "the log line's"],
    [bad, "the log line"],
    [bad, "progress done NaN"],
    [bad, "progress total 2"],
  ]);
  await buffer.close();
});
