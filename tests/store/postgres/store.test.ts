import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import {
  JsonText,
  type NewTaskEvent,
  PostgresTaskStore,
  UndecryptableValueError,
  UnreadableValue,
} from "../../../src/store/index.ts";
import type { EventAction, TaskStatus } from "../../../src/task/index.ts";
import { MAX_JSON_DEPTH } from "../../../src/task/json-value.ts";
import { newTaskRow } from "../../helpers.ts";
import { type StoreUnderTest, storeUnderTest } from "./database.ts";

const KEY = Buffer.alloc(32, 7).toString("base64");

let underTest: StoreUnderTest;
let database: StoreUnderTest["database"];
let store: PostgresTaskStore;
let raw: postgres.Sql;

beforeAll(async () => {
  underTest = await storeUnderTest();
  ({ database, store, raw } = underTest);
});

afterAll(async () => {
  await underTest?.close();
});

const event = (from: TaskStatus | null, to: TaskStatus | null, action: EventAction): NewTaskEvent => ({
  fromStatus: from,
  toStatus: to,
  action,
  reason: null,
  actor: "test",
  source: null,
});
const created = event(null, "PENDING", "create");

describe("PostgresTaskStore: the core contract", () => {
  test("createTask returns the row, writes its create event, and refuses a duplicate id or key", async () => {
    const task = newTaskRow({
      params: { text: "héllo 🔥", list: [1, { two: 2 }] },
      tags: ["a"],
      idempotencyKey: "k1",
    });
    const row = await store.createTask(task, created);
    expect(row).toMatchObject({
      id: task.id,
      status: "PENDING",
      params: task.params,
      tags: ["a"],
      attempt: 1,
    });
    expect(row.createdAt).toBe(row.updatedAt);
    expect(await store.getTask(task.id)).toEqual(row);
    expect((await store.findByIdempotencyKey("k1"))?.id).toBe(task.id);
    const events = await store.listEvents(task.id, {});
    expect(events.items).toEqual([
      { id: expect.any(Number), taskId: task.id, at: row.createdAt, ...created },
    ]);
    await expect(store.createTask(task, created)).rejects.toThrow(/duplicate key/);
    await expect(store.createTask(newTaskRow({ idempotencyKey: "k1" }), created)).rejects.toThrow(
      /tasks_idempotency_key/,
    );
    // Nothing of the refused inserts was written.
    expect((await store.listEvents(task.id, {})).items).toHaveLength(1);
  });

  test("a guarded transition moves from an allowed status only, and writes its event with it", async () => {
    const task = await store.createTask(newTaskRow(), created);
    expect(
      await store.transition(
        task.id,
        ["RUNNING", "PAUSED"],
        { status: "FINISHED" },
        event("RUNNING", "FINISHED", "finish"),
      ),
    ).toBeUndefined();
    expect(
      await store.transition(task.id, [], { status: "RUNNING" }, event("PENDING", "RUNNING", "start")),
    ).toBeUndefined();
    expect((await store.listEvents(task.id, {})).items).toHaveLength(1);
    expect((await store.getTask(task.id))?.status).toBe("PENDING");

    const running = await store.transition(
      task.id,
      ["PENDING"],
      {
        status: "RUNNING",
        startTime: 100,
        lastRunTime: 100,
        progress: { done: 3, total: 10, message: null },
      },
      event("PENDING", "RUNNING", "start"),
    );
    expect(running).toMatchObject({ status: "RUNNING", startTime: 100, lastRunTime: 100 });
    // A time with a fraction of a millisecond is rounded, not refused.
    expect(await store.updateTask(task.id, { runAt: 1234.6 })).toMatchObject({ runAt: 1235 });
    // Text takes no NUL: it becomes U+FFFD instead of failing the write.
    const reason = "a\0b\ud800c";
    expect(
      await store.updateTask(task.id, { statusReason: reason }, { ...event(null, null, "pause"), reason }),
    ).toMatchObject({
      statusReason: "a\uFFFDb\uFFFDc",
    });
    expect((await store.listEvents(task.id, {})).items.at(-1)?.reason).toBe("a\uFFFDb\uFFFDc");
    // A second start keeps the first start time; addActiveMs adds; completeProgress completes.
    const ended = await store.transition(
      task.id,
      ["RUNNING"],
      {
        status: "FINISHED",
        startTime: 999,
        endTime: 200,
        addActiveMs: 40.4,
        completeProgress: true,
        result: { ok: true },
      },
      event("RUNNING", "FINISHED", "finish"),
    );
    expect(ended).toMatchObject({
      status: "FINISHED",
      startTime: 100,
      endTime: 200,
      activeMs: 40,
      progress: { done: 10, total: 10, message: null },
      result: { ok: true },
    });
    expect((await store.listEvents(task.id, {})).items.map((e) => e.action)).toEqual([
      "create",
      "start",
      "pause",
      "finish",
    ]);
    // The event refers to an action outside EVENT_ACTIONS: the CHECK refuses it, and the move with it.
    const other = await store.createTask(newTaskRow(), created);
    await expect(
      store.transition(
        other.id,
        ["PENDING"],
        { status: "RUNNING" },
        event("PENDING", "RUNNING", "bogus" as EventAction),
      ), // outside the type on purpose
    ).rejects.toThrow(/task_events_action_check/);
    expect((await store.getTask(other.id))?.status).toBe("PENDING");
  });

  test("listTasks pages newest first on the id, with the status, name and tag filters", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const task = newTaskRow({ taskName: "pager", tags: i % 2 === 0 ? ["even"] : ["odd"] });
      await store.createTask(task, created);
      ids.push(task.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await store.listTasks({ name: "pager", limit: 3, cursor });
      seen.push(...result.items.map((t) => t.id));
      if (result.nextCursor === null) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const even = await store.listTasks({ name: "pager", tag: "even" });
    expect(even.items.map((t) => t.id)).toEqual(ids.filter((_, i) => i % 2 === 0).reverse());
    expect(even.nextCursor).toBeNull();
    const none = await store.listTasks({ name: "pager", status: "RUNNING" });
    expect(none.items).toEqual([]);
    // A limit above the cap is capped, below 1 raised to 1.
    expect((await store.listTasks({ name: "pager", limit: 0 })).items).toHaveLength(1);
  });

  test("transaction commits together, rolls back together, and attempt undoes only its own writes", async () => {
    const task = await store.createTask(newTaskRow(), created);
    const retries = await store.transaction(async (tx) => {
      await tx.updateTask(task.id, { retries: 1 }, event(null, null, "retry"));
      await expect(
        tx.attempt(async (inner) => {
          await inner.updateTask(task.id, { retries: 9 });
          throw new Error("undone");
        }),
      ).rejects.toThrow("undone");
      return (await tx.getTask(task.id))?.retries;
    });
    expect(retries).toBe(1);
    await expect(
      store.transaction(async (tx) => {
        await tx.updateTask(task.id, { retries: 5 }, event(null, null, "retry"));
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect((await store.getTask(task.id))?.retries).toBe(1);
    expect((await store.listEvents(task.id, {})).items).toHaveLength(2);
  });

  test("a value already JSON text is stored as it is; a value nested too deep reads as unreadable", async () => {
    const task = newTaskRow({ params: new JsonText('{"a": [1, 2]}', { a: [1, 2] }) });
    expect((await store.createTask(task, created)).params).toEqual({ a: [1, 2] });
    const deep = `${"[".repeat(MAX_JSON_DEPTH + 5)}${"]".repeat(MAX_JSON_DEPTH + 5)}`;
    await raw.unsafe("UPDATE tasks SET params = $1::text::json WHERE id = $2", [deep, task.id]);
    const read = await store.getTask(task.id);
    expect(read?.params).toBeInstanceOf(UnreadableValue);
    expect(String((read?.params as UnreadableValue | undefined)?.unreadable)).toContain("nests deeper");
  });
});

describe("PostgresTaskStore: telemetry, history and counts", () => {
  test("writeTelemetry: progress always, checkpoints while live, lines of deleted tasks dropped", async () => {
    const live = await store.createTask(newTaskRow(), created);
    const ended = await store.createTask(newTaskRow(), created);
    await store.transition(
      ended.id,
      ["PENDING"],
      { status: "STOPPED", endTime: 1 },
      event("PENDING", "STOPPED", "stop"),
    );
    await store.writeTelemetry({
      progress: new Map([
        [live.id, { done: 1, total: 2, message: "half" }],
        [ended.id, { done: 2, total: 2, message: null }],
      ]),
      checkpoints: new Map<string, unknown>([
        [live.id, { at: 1 }],
        [ended.id, { at: 1 }],
      ]),
      logs: [
        { taskId: live.id, at: 1, level: "info", message: "first" },
        { taskId: "no-such-task", at: 1, level: "info", message: "dropped" },
        { taskId: live.id, at: 2, level: "warn", message: "nul\0 and \ud800 lone" },
        { taskId: live.id, at: 3, level: "error", message: "last" },
      ],
    });
    expect(await store.getTask(live.id)).toMatchObject({
      progress: { done: 1, total: 2 },
      checkpoint: { at: 1 },
    });
    expect(await store.getTask(ended.id)).toMatchObject({ progress: { done: 2 }, checkpoint: null });
    const logs = await store.listLogs(live.id, { limit: 2 });
    expect(logs.items.map((line) => line.message)).toEqual(["first", "nul\uFFFD and \uFFFD lone"]);
    const rest = await store.listLogs(live.id, { after: logs.nextCursor ?? undefined });
    expect(rest).toEqual({
      items: [expect.objectContaining({ level: "error", message: "last" })],
      nextCursor: null,
    });
  });

  test("deleteTask and deleteEndedBefore take only ended tasks, with their history", async () => {
    const live = await store.createTask(newTaskRow(), created);
    expect(await store.deleteTask(live.id)).toBe(false);
    const old = await store.createTask(newTaskRow({ taskName: "old" }), created);
    await store.transition(
      old.id,
      ["PENDING"],
      { status: "FAILED", endTime: 1000 },
      event("PENDING", "FAILED", "fail"),
    );
    const deleted = await store.deleteEndedBefore(Date.now() + 60_000, 100);
    expect(deleted).toContainEqual({ id: old.id, status: "FAILED", name: "old" });
    expect(await store.getTask(old.id)).toBeUndefined();
    expect((await store.listEvents(old.id, {})).items).toEqual([]);
    expect(await store.getTask(live.id)).toBeDefined();
  });

  test("idsWithPrefix, countByStatus, scanStatusAndName, countEndedSince and listActive", async () => {
    const ids = ["pfx-a1", "pfx-a2", "pfx-b1", "pfx.", "pfy-0"];
    for (const id of ids) await store.createTask(newTaskRow({ id, taskName: "prefixed" }), created);
    expect(await store.idsWithPrefix("pfx-a", 10)).toEqual(["pfx-a1", "pfx-a2"]);
    expect(await store.idsWithPrefix("pfx", 2)).toEqual(["pfx-a1", "pfx-a2"]);
    expect(await store.idsWithPrefix("pfx", 10)).toEqual(["pfx-a1", "pfx-a2", "pfx-b1", "pfx."]);

    const counts = await store.countByStatus();
    expect(Object.keys(counts).sort()).toEqual([
      "FAILED",
      "FINISHED",
      "PAUSED",
      "PENDING",
      "RUNNING",
      "STOPPED",
    ]);
    const scanned: string[] = [];
    let after: string | null = null;
    for (;;) {
      const step = await store.scanStatusAndName(after, 3);
      if (step.length === 0) break;
      scanned.push(...step.map((row) => row.id));
      after = step.at(-1)?.id ?? null;
    }
    expect(scanned).toEqual([...scanned].sort());
    expect(scanned.length).toBe(Object.values(counts).reduce((sum, n) => sum + n, 0));

    const since = Date.now();
    const task = await store.createTask(newTaskRow(), created);
    await store.transition(
      task.id,
      ["PENDING"],
      { status: "FINISHED", endTime: since },
      event("PENDING", "FINISHED", "finish"),
    );
    const buckets = await store.countEndedSince(since, 60_000);
    expect(buckets).toEqual([{ bucket: Math.floor(since / 60_000) * 60_000, status: "FINISHED", count: 1 }]);
    expect(await store.countEndedSince(Date.now() + 60_000, 1000)).toEqual([]);

    const active = await store.listActive();
    expect(active.every((t) => ["PENDING", "RUNNING", "PAUSED"].includes(t.status))).toBe(true);
    expect(active.map((t) => t.id)).toEqual(active.map((t) => t.id).sort());
  });
});

describe("PostgresTaskStore: encryption", () => {
  test("params, results and checkpoints are ciphertext in the table and plain through the store", async () => {
    const sealed = new PostgresTaskStore({ url: database.url, encryptionKey: KEY });
    try {
      const task = newTaskRow({ params: { secret: "p4ss" } });
      await sealed.createTask(task, created);
      await sealed.transition(
        task.id,
        ["PENDING"],
        { status: "RUNNING" },
        event("PENDING", "RUNNING", "start"),
      );
      await sealed.writeTelemetry({
        progress: new Map(),
        checkpoints: new Map([[task.id, { step: "s3cret" }]]),
        logs: [],
      });
      await sealed.transition(
        task.id,
        ["RUNNING"],
        { status: "FINISHED", result: "r3sult" },
        event("RUNNING", "FINISHED", "finish"),
      );

      const [row] =
        await raw`SELECT params::text, result::text, checkpoint::text FROM tasks WHERE id = ${task.id}`;
      for (const column of ["params", "result", "checkpoint"]) {
        expect(String(row?.[column])).toStartWith('"kiln:v1:');
      }
      expect(JSON.stringify(row)).not.toMatch(/p4ss|s3cret|r3sult/);
      expect(await sealed.getTask(task.id)).toMatchObject({
        params: { secret: "p4ss" },
        result: "r3sult",
        checkpoint: { step: "s3cret" },
      });
      // Without the key the rows are refused, not handed out as ciphertext.
      await expect(store.getTask(task.id)).rejects.toThrow(UndecryptableValueError);
      await expect(store.verifyReadable()).rejects.toThrow(UndecryptableValueError);
      await raw`DELETE FROM tasks WHERE id = ${task.id}`;
    } finally {
      await sealed.close();
    }
  });
});
