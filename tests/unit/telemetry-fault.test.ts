// The telemetry buffer across a storage outage. The outage is injected here (a store whose
// telemetry write fails the way bun:sqlite reports a full disk) so that the buffer's bounds can
// be driven tick by tick; tests/reliability/storage-faults.test.ts makes the faults for real.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { EventHub } from "../../src/engine/events.ts";
import { GuardedStore, silentLogger } from "../../src/engine/index.ts";
import { TelemetryBuffer } from "../../src/engine/upkeep/telemetry.ts";
import { SqliteSyncStore, SqliteTaskStore, type TelemetryBatch } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";

class DiskFullStore extends SqliteSyncStore {
  full = false;
  override writeTelemetry(batch: TelemetryBatch): void {
    if (this.full)
      throw Object.assign(new Error("database or disk is full"), {
        name: "SQLiteError",
        code: "SQLITE_FULL",
      });
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
  const inner = new DiskFullStore({ path: join(dir.path, "kiln.db") });
  inner.migrate();
  const store = new GuardedStore(new SqliteTaskStore(inner), silentLogger);
  const errors: unknown[] = [];
  const buffer = new TelemetryBuffer(
    store,
    new EventHub(() => {}),
    60_000,
    (error) => errors.push(error),
    () => {},
  );
  const id = "0190a000-0000-7000-8000-000000000001";
  await store.createTask(
    {
      id,
      taskName: "echo",
      status: "PENDING",
      params: {},
      priority: 0,
      runAt: null,
      idempotencyKey: null,
      tags: null,
    },
    { fromStatus: null, toStatus: "PENDING", action: "create", reason: null, actor: null, source: null },
  );
  return { inner, store, buffer, errors, id };
}

test("progress, checkpoints and logs are kept while the database is full and written once it is not", async () => {
  const { inner, store, buffer, errors, id } = await setup();
  inner.full = true;
  buffer.progress(id, { done: 1, total: 3, message: null });
  buffer.checkpoint(id, { next: 1 });
  buffer.log(id, "info", "first", 1);
  await buffer.flush();
  buffer.progress(id, { done: 2, total: 3, message: null });
  buffer.checkpoint(id, { next: 2 });
  buffer.log(id, "info", "second", 2);
  await expect(buffer.flushOrThrow()).rejects.toThrow(/disk holding the database is full/);
  expect((await store.getTask(id))?.progress).toBeNull();
  inner.full = false;
  await buffer.flushOrThrow();
  expect(await store.getTask(id)).toMatchObject({ progress: { done: 2, total: 3 }, checkpoint: { next: 2 } });
  expect((await store.listLogs(id, {})).items.map((line) => line.message)).toEqual(["first", "second"]);
  expect(errors).toEqual([]);
  await buffer.close();
});

test("a long outage keeps at most 10,000 log lines and ends in one marker saying how many were dropped", async () => {
  const { inner, store, buffer, id } = await setup();
  inner.full = true;
  // 30 ticks of 500 lines (the per-tick cap), each tick's write failing.
  for (let tick = 0; tick < 30; tick++) {
    for (let i = 0; i < 500; i++) buffer.log(id, "info", `line ${tick * 500 + i}`, tick);
    await buffer.flush();
  }
  inner.full = false;
  await buffer.flush();
  const messages: string[] = [];
  for (let after: number | undefined; ; ) {
    const page = await store.listLogs(id, { after, limit: 500 });
    messages.push(...page.items.map((line) => line.message));
    if (page.nextCursor === null) break;
    after = page.nextCursor;
  }
  expect(messages).toHaveLength(10_001);
  expect(messages[0]).toBe("line 0");
  expect(messages[9_999]).toBe("line 9999");
  expect(messages[10_000]).toBe(
    "5000 log lines dropped: more than 10000 kept while the database could not be written",
  );
  await buffer.close();
});
