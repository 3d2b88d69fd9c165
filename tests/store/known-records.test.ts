// The SQLite store computes the record a transition leaves when it knows the row (see
// known-records.ts) instead of reading it back with RETURNING *. Every record it hands out must
// be what the database holds afterwards: checked here against a fresh read of the row, through
// each kind of patch, with a key and without, and after what can make the known row stale (a
// rollback, telemetry, an update, a write the store did not make).
import { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { JsonText, SqliteTaskStore, type TaskPatch, type TaskRecord } from "../../src/store/index.ts";
import {
  KNOWN_RECORDS_BYTES,
  KnownRecords,
  knownRecordWeight,
  patchedRecord,
} from "../../src/store/known-records.ts";
import { tempDir } from "../helpers.ts";
import { createEvent, event, newTask, rejection } from "./conformance/harness.ts";

const dir = tempDir("kiln-known-records-");
const stores: SqliteTaskStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => dir.remove());

async function openStore(encryptionKey?: string): Promise<{ store: SqliteTaskStore; path: string }> {
  const path = join(dir.path, `${Bun.randomUUIDv7()}.db`);
  const store = new SqliteTaskStore({ path, backgroundCheckpoints: false, encryptionKey });
  stores.push(store);
  await store.migrate();
  return { store, path };
}

/** The record a transition returned, and the row read afresh: they must be equal. */
async function expectStored(store: SqliteTaskStore, record: TaskRecord | undefined): Promise<TaskRecord> {
  expect(record).toBeDefined();
  const stored = await store.getTask((record as TaskRecord).id);
  expect(record).toEqual(stored as TaskRecord);
  return record as TaskRecord;
}

const start = (store: SqliteTaskStore, id: string, startTime = Date.now()) =>
  store.transition(
    id,
    ["PENDING"],
    {
      status: "RUNNING",
      lastRunTime: startTime,
      statusReason: null,
      runAt: null,
      requestedAction: null,
      startTime,
    },
    event("PENDING", "RUNNING", "start"),
  );

for (const keyed of [false, true]) {
  describe(keyed ? "with an encryption key" : "without a key", () => {
    const key = keyed ? randomBytes(32).toString("base64") : undefined;

    test("a run's start, pause, resume and end: each record returned is the stored row", async () => {
      const { store } = await openStore(key);
      const created = await store.createTask(
        newTask({ params: { deep: { list: [1, "two", null] } } }),
        createEvent(),
      );
      const first = await expectStored(store, await start(store, created.id, 1_000));
      expect(first.startTime).toBe(1_000);
      const paused = await expectStored(
        store,
        await store.transition(
          created.id,
          ["RUNNING"],
          {
            status: "PAUSED",
            checkpoint: { step: 3, seen: ["a"] },
            addActiveMs: 12.6,
            requestedAction: null,
          },
          event("RUNNING", "PAUSED", "pause"),
        ),
      );
      expect(paused.activeMs).toBe(13);
      expect(paused.checkpoint).toEqual({ step: 3, seen: ["a"] });
      const resumed = await expectStored(
        store,
        await store.transition(
          created.id,
          ["PAUSED"],
          { status: "PENDING" },
          event("PAUSED", "PENDING", "resume"),
        ),
      );
      // A second start keeps the first start time: the column is only filled when empty.
      const again = await expectStored(store, await start(store, resumed.id, 2_000));
      expect(again.startTime).toBe(1_000);
      const result = { total: 3, items: [{ a: 1 }], when: new Date(5), missing: undefined, nan: Number.NaN };
      const finished = await expectStored(
        store,
        await store.transition(
          created.id,
          ["RUNNING"],
          { status: "FINISHED", result, endTime: 3_000, error: null, addActiveMs: -5 },
          event("RUNNING", "FINISHED", "finish"),
        ),
      );
      // What JSON keeps of the value, as the column reads back.
      expect(finished.result).toEqual({ total: 3, items: [{ a: 1 }], when: new Date(5).toJSON(), nan: null });
      expect(finished.activeMs).toBe(13);
    });

    test("a create: the record returned is the row inserted, every column given or defaulted", async () => {
      const { store } = await openStore(key);
      const full = newTask({
        status: "PAUSED",
        params: { a: [1, { b: "c" }], when: new Date(7), skip: undefined },
        priority: 3,
        runAt: 12_345,
        idempotencyKey: `key-${Bun.randomUUIDv7()}`,
        tags: ["x", "y"],
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        requestId: "r-1",
        parentId: Bun.randomUUIDv7(),
        scheduleId: "s-1",
        scheduleFireTime: 99,
        rateKey: "",
        concurrencyKey: "k",
        dependencyPolicy: "run",
        awaiting: "dependencies",
      });
      const created = await expectStored(store, await store.createTask(full, createEvent("PAUSED")));
      expect(created.params).toEqual({ a: [1, { b: "c" }], when: new Date(7).toJSON() });
      await expectStored(store, await store.createTask(newTask({ params: "text" }), createEvent()));
      await expectStored(store, await store.createTask(newTask({ params: undefined }), createEvent()));
    });

    test("a failure's error, a retry's cleared start time and a value given as JSON text", async () => {
      const { store } = await openStore(key);
      const created = await store.createTask(newTask(), createEvent());
      await expectStored(store, await start(store, created.id));
      const patch: TaskPatch = {
        status: "PENDING",
        error: new JsonText('{"name":"Boom","message":"no"}', { name: "Boom", message: "no" }),
        startTime: null,
        attempt: 2,
        retries: 1,
        runAt: 99,
      };
      const retried = await expectStored(
        store,
        await store.transition(created.id, ["RUNNING"], patch, event("RUNNING", "PENDING", "retry")),
      );
      expect(retried.error).toEqual({ name: "Boom", message: "no" });
      expect(retried.startTime).toBeNull();
    });
  });
}

test("a guard the row does not meet moves nothing, known row or not", async () => {
  const { store } = await openStore();
  const created = await store.createTask(newTask(), createEvent());
  const moved = await store.transition(
    created.id,
    ["RUNNING"],
    { status: "FINISHED" },
    event("RUNNING", "FINISHED", "finish"),
  );
  expect(moved).toBeUndefined();
  expect((await store.getTask(created.id))?.status).toBe("PENDING");
});

test("a rolled-back transaction's writes are not taken for the row", async () => {
  const { store } = await openStore();
  const created = await store.createTask(newTask(), createEvent());
  await rejection(
    store.transaction(async (tx) => {
      await tx.transition(
        created.id,
        ["PENDING"],
        { status: "RUNNING" },
        event("PENDING", "RUNNING", "start"),
      );
      throw new Error("undo");
    }),
  );
  expect((await store.getTask(created.id))?.status).toBe("PENDING");
  // Until the rollback, the row was known as RUNNING: a write guarded on either status must
  // give the row as the database has it, PENDING.
  const noted = await expectStored(
    store,
    await store.transition(
      created.id,
      ["PENDING", "RUNNING"],
      { statusReason: "after the rollback" },
      event("PENDING", null, "requeue"),
    ),
  );
  expect(noted.status).toBe("PENDING");
});

test("progress and a checkpoint written as telemetry show in the next transition's record", async () => {
  const { store } = await openStore();
  const created = await store.createTask(newTask(), createEvent());
  await start(store, created.id);
  await store.writeTelemetry({
    progress: new Map([[created.id, { done: 1, total: 4, message: null }]]),
    checkpoints: new Map([[created.id, { at: 1 }]]),
    logs: [],
  });
  const finished = await expectStored(
    store,
    await store.transition(
      created.id,
      ["RUNNING"],
      { status: "FINISHED", endTime: Date.now(), completeProgress: true },
      event("RUNNING", "FINISHED", "finish"),
    ),
  );
  expect(finished.progress).toEqual({ done: 4, total: 4, message: null });
  expect(finished.checkpoint).toEqual({ at: 1 });
});

test("an updateTask, then a transition: the record has both", async () => {
  const { store } = await openStore();
  const created = await store.createTask(newTask(), createEvent());
  await start(store, created.id);
  await store.updateTask(created.id, { statusReason: "noted" });
  const paused = await expectStored(
    store,
    await store.transition(
      created.id,
      ["RUNNING"],
      { status: "PAUSED" },
      event("RUNNING", "PAUSED", "pause"),
    ),
  );
  expect(paused.statusReason).toBe("noted");
});

test("a row changed behind the store's back is read again when the guard no longer holds", async () => {
  const { store, path } = await openStore();
  const created = await store.createTask(newTask(), createEvent());
  await start(store, created.id);
  const db = new Database(path);
  try {
    db.exec(`UPDATE tasks SET status = 'STOPPED' WHERE id = '${created.id}'`);
  } finally {
    db.close();
  }
  // The known row says RUNNING; the UPDATE's guard finds STOPPED and nothing is written.
  const moved = await store.transition(
    created.id,
    ["RUNNING"],
    { status: "FINISHED" },
    event("RUNNING", "FINISHED", "finish"),
  );
  expect(moved).toBeUndefined();
  expect((await store.getTask(created.id))?.status).toBe("STOPPED");
});

test("patchedRecord leaves the known record as it was and refuses a patch only SQL can apply", () => {
  const known = {
    id: "t",
    status: "RUNNING",
    activeMs: 10,
    startTime: 5,
    result: null,
    updatedAt: 1,
  } as unknown as TaskRecord;
  const next = patchedRecord(known, { status: "FINISHED", result: [1], addActiveMs: 2.4 }, 9);
  expect(next).toMatchObject({ status: "FINISHED", result: [1], activeMs: 12, startTime: 5, updatedAt: 9 });
  expect(known).toMatchObject({ status: "RUNNING", activeMs: 10, result: null, updatedAt: 1 });
  expect(patchedRecord(known, { status: "FINISHED", completeProgress: true }, 9)).toBeUndefined();
});

test("a backlog heavier than the records kept: every start and end still returns the stored row", async () => {
  const { store } = await openStore();
  // Params of 64 KB: the kept records reach their bound after about 60 tasks.
  const params = { text: "x".repeat(64 * 1024) };
  const beyond = Math.ceil(KNOWN_RECORDS_BYTES / knownRecordWeight(64 * 1024)) + 10;
  const ids: string[] = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < beyond; i++) ids.push((await tx.createTask(newTask({ params }), createEvent())).id);
  });
  for (const id of [ids[0], ids.at(-1)] as string[]) {
    await expectStored(store, await start(store, id));
    await expectStored(
      store,
      await store.transition(
        id,
        ["RUNNING"],
        { status: "FAILED", error: { name: "E", message: "m" }, endTime: Date.now() },
        event("RUNNING", "FAILED", "fail"),
      ),
    );
  }
});

test("the records kept stay within their bound; a running task is kept beyond it; an ended one is not", () => {
  const known = new KnownRecords();
  const record = (id: string, status: TaskRecord["status"]) => ({ id, status }) as unknown as TaskRecord;
  const weight = knownRecordWeight(100_000);
  const fit = Math.floor(KNOWN_RECORDS_BYTES / weight);
  for (let i = 0; i < fit + 5; i++) known.remember(record(`p${i}`, "PENDING"), 100_000);
  expect(known.size.records).toBe(fit);
  expect(known.size.bytes).toBeLessThanOrEqual(KNOWN_RECORDS_BYTES);
  expect(known.get(`p${fit}`)).toBeUndefined();
  known.remember(record("r", "RUNNING"), 100_000);
  expect(known.get("r")?.status).toBe("RUNNING");
  // Paused beyond the bound: no longer kept.
  known.replace(record("r", "PAUSED"));
  expect(known.get("r")).toBeUndefined();
  known.replace(record("p0", "FINISHED"));
  expect(known.get("p0")).toBeUndefined();
  expect(known.size.records).toBe(fit - 1);
  known.forgetAll();
  expect(known.size).toEqual({ records: 0, bytes: 0 });
});
