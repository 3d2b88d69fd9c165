import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import {
  MAX_PAGE_SIZE,
  type NewTask,
  type NewTaskEvent,
  pageSize,
  SqliteSyncStore,
  type TaskProgress,
} from "../../src/store/index.ts";
import { EVENT_ACTIONS, type EventAction, type TaskStatus } from "../../src/task/index.ts";
import { CREATED_EVENT, newTaskRow } from "../helpers.ts";

let dir = "";
let dbPath = "";
const stores: SqliteSyncStore[] = [];
const rawDbs: Database[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-store-"));
  dbPath = join(dir, "kiln.db");
});

afterEach(async () => {
  for (const raw of rawDbs.splice(0)) raw.close();
  for (const store of stores.splice(0)) {
    try {
      store.close();
    } catch {
      // already closed by the test
    }
  }
  await rm(dir, { recursive: true, force: true });
});

function openStore(): SqliteSyncStore {
  const store = new SqliteSyncStore({ path: dbPath });
  stores.push(store);
  store.migrate();
  return store;
}

/** A second, plain connection on the same file, to look under the store. */
function openRaw(): Database {
  const raw = new Database(dbPath, { strict: true });
  raw.exec("PRAGMA foreign_keys = ON");
  rawDbs.push(raw);
  return raw;
}

function countRows(
  raw: Database,
  table: "tasks" | "task_events" | "task_logs" | "task_tags",
  taskId?: string,
): number {
  const column = table === "tasks" ? "id" : "task_id";
  const row =
    taskId === undefined
      ? raw.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()
      : raw
          .query<{ n: number }, [string]>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`)
          .get(taskId);
  return row?.n ?? -1;
}

/** The action of a run's end in each status it can end in. */
const ENDING_ACTION: Partial<Record<TaskStatus, EventAction>> = {
  FINISHED: "finish",
  FAILED: "fail",
  STOPPED: "stop",
  PAUSED: "pause",
  PENDING: "requeue",
};

function event(
  from: TaskStatus | null,
  to: TaskStatus | null,
  action: EventAction,
  reason: string | null = null,
) {
  return {
    fromStatus: from,
    toStatus: to,
    action,
    reason,
    actor: "test",
    source: null,
  } satisfies NewTaskEvent;
}

/** Creates a task and walks it to `status` through transitions. */
function createIn(store: SqliteSyncStore, status: TaskStatus, overrides: Partial<NewTask> = {}): string {
  const task = newTaskRow(overrides);
  store.createTask(task, CREATED_EVENT);
  if (status === "PENDING") return task.id;
  if (status === "PAUSED") {
    store.transition(task.id, ["PENDING"], { status: "PAUSED" }, event("PENDING", "PAUSED", "pause"));
    return task.id;
  }
  store.transition(task.id, ["PENDING"], { status: "RUNNING" }, event("PENDING", "RUNNING", "start"));
  if (status !== "RUNNING") {
    store.transition(
      task.id,
      ["RUNNING"],
      { status },
      event("RUNNING", status, ENDING_ACTION[status] ?? "finish"),
    );
  }
  return task.id;
}

function emptyBatch() {
  return {
    progress: new Map<string, TaskProgress>(),
    checkpoints: new Map<string, unknown>(),
    logs: [] as { taskId: string; at: number; level: "debug" | "info" | "warn" | "error"; message: string }[],
  };
}

describe("migrate", () => {
  test("running it twice is a no-op that keeps the data", () => {
    const store = openStore();
    const task = newTaskRow();
    store.createTask(task, CREATED_EVENT);
    const raw = openRaw();
    const applied = () =>
      raw.query<{ n: number }, []>("SELECT count(*) AS n FROM __drizzle_migrations").get()?.n;
    const before = applied();
    expect(before).toBeGreaterThanOrEqual(1);

    expect(() => store.migrate()).not.toThrow();
    expect(applied()).toBe(before);
    expect(store.getTask(task.id)?.id).toBe(task.id);
    expect(store.listEvents(task.id, {}).items).toHaveLength(1);
  });

  /** A database as a kiln that knew only the migrations `tags` left it. */
  function oldDatabase(tags: string[]): Database {
    const drizzleDir = join(import.meta.dir, "../../drizzle");
    const oldDir = join(dir, `migrations-${tags.length}`);
    mkdirSync(join(oldDir, "meta"), { recursive: true });
    for (const tag of tags) copyFileSync(join(drizzleDir, `${tag}.sql`), join(oldDir, `${tag}.sql`));
    const journal = JSON.parse(readFileSync(join(drizzleDir, "meta/_journal.json"), "utf8")) as {
      entries: Array<{ tag: string }>;
    };
    journal.entries = journal.entries.filter((entry) => tags.includes(entry.tag));
    writeFileSync(join(oldDir, "meta/_journal.json"), JSON.stringify(journal));
    const old = new Database(dbPath, { strict: true });
    old.exec("PRAGMA foreign_keys = ON");
    migrate(drizzle({ client: old }), { migrationsFolder: oldDir });
    return old;
  }

  test("a database from before task_tags: the migration indexes the tags its tasks hold, and the tag filter finds them", () => {
    const journal = JSON.parse(
      readFileSync(join(import.meta.dir, "../../drizzle/meta/_journal.json"), "utf8"),
    ) as {
      entries: Array<{ tag: string }>;
    };
    const before = journal.entries.map((entry) => entry.tag);
    const old = oldDatabase(before.slice(0, before.indexOf("0013_task_tags")));
    const insert = old.prepare(
      "INSERT INTO tasks (id, task_name, status, tags, created_at, updated_at) VALUES (?, 'echo', 'FINISHED', ?, 1, 1)",
    );
    insert.run("00000000-0000-7000-8000-000000000001", JSON.stringify(["red", "blue"]));
    insert.run("00000000-0000-7000-8000-000000000002", JSON.stringify(["red", "red"]));
    insert.run("00000000-0000-7000-8000-000000000003", null);
    // Rows altered outside kiln: the migration skips what is not an array of strings, and goes on.
    insert.run("00000000-0000-7000-8000-000000000004", "not json");
    insert.run("00000000-0000-7000-8000-000000000005", JSON.stringify({ red: true }));
    insert.run("00000000-0000-7000-8000-000000000006", JSON.stringify(["red", 7, null]));
    old.close();

    const store = openStore();
    const ids = (tag: string) => store.listTasks({ tag }).items.map((task) => task.id.slice(-1));
    expect(ids("red")).toEqual(["6", "2", "1"]);
    expect(ids("blue")).toEqual(["1"]);
    expect(ids("7")).toEqual([]);
    expect(countRows(openRaw(), "task_tags", "00000000-0000-7000-8000-000000000002")).toBe(1);
  });

  test("a database from before task_events.source gains the column; its old rows read null", () => {
    const old = oldDatabase(["0000_init"]);
    old.exec(
      "INSERT INTO tasks (id, task_name, status, created_at, updated_at) VALUES ('old', 'echo', 'PENDING', 1, 1)",
    );
    old.exec(
      "INSERT INTO task_events (task_id, at, from_status, to_status, action, actor) VALUES ('old', 1, NULL, 'PENDING', 'create', 'api')",
    );
    old.close();

    const store = openStore();
    expect(store.listEvents("old", {}).items).toMatchObject([
      { action: "create", actor: "api", source: null },
    ]);
    store.updateTask("old", {}, { ...event("PENDING", null, "pause"), actor: "admin", source: "::1" });
    expect(store.listEvents("old", {}).items.at(-1)).toMatchObject({ actor: "admin", source: "::1" });
  });
  test("a database from before 0002 keeps its history and ids; ids go on from the largest, keys stay unique", () => {
    const old = oldDatabase(["0000_init", "0001_event_source"]);
    old.exec(
      "INSERT INTO tasks (id, task_name, status, idempotency_key, created_at, updated_at) VALUES ('old', 'echo', 'FINISHED', 'k1', 1, 1)",
    );
    for (const [to, action] of [
      ["PENDING", "create"],
      ["RUNNING", "start"],
      ["FINISHED", "finish"],
    ]) {
      old.exec(
        `INSERT INTO task_events (task_id, at, to_status, action, actor, source) VALUES ('old', 1, '${to}', '${action}', 'api', '::1')`,
      );
    }
    old.exec("INSERT INTO task_logs (task_id, at, level, message) VALUES ('old', 1, 'info', 'before')");
    const eventsBefore = old.query("SELECT * FROM task_events ORDER BY id").all();
    expect(eventsBefore).toHaveLength(3);
    old.close();

    const store = openStore();
    const raw = openRaw();
    expect(raw.query("SELECT * FROM task_events ORDER BY id").all()).toEqual(eventsBefore);
    expect(store.listLogs("old", {}).items).toMatchObject([{ message: "before" }]);
    // No AUTOINCREMENT: a commit no longer writes the sqlite_sequence page as well.
    const tableSql = (name: string) =>
      raw.query<{ sql: string }, [string]>("SELECT sql FROM sqlite_master WHERE name = ?").get(name)?.sql;
    expect(tableSql("task_events")).not.toContain("AUTOINCREMENT");
    expect(tableSql("task_logs")).not.toContain("AUTOINCREMENT");
    expect(tableSql("tasks_idempotency_key")).toContain("IS NOT NULL");

    const task = store.createTask(newTaskRow({ idempotencyKey: "k2" }), CREATED_EVENT);
    const ids = store.listEvents(task.id, {}).items.map((e) => e.id);
    expect(ids[0]).toBeGreaterThan(3);
    expect(() => store.createTask(newTaskRow({ idempotencyKey: "k1" }), CREATED_EVENT)).toThrow(/UNIQUE/);
    expect(store.findByIdempotencyKey("k1")?.id).toBe("old");
    const plan = raw
      .query<{ detail: string }, [string]>("EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE idempotency_key = ?")
      .all("k1")
      .map((row) => row.detail)
      .join("; ");
    expect(plan).toContain("tasks_idempotency_key");
    // Tasks without a key: as many as you like, none of them in the index.
    store.createTask(newTaskRow(), CREATED_EVENT);
    store.createTask(newTaskRow(), CREATED_EVENT);
    expect(
      raw.query<{ n: number }, []>("SELECT count(*) AS n FROM tasks WHERE idempotency_key IS NULL").get()?.n,
    ).toBe(2);
    // The foreign key survived the table rebuild: deleting the task deletes its history and logs.
    expect(raw.query("PRAGMA foreign_key_check").all()).toEqual([]);
    expect(store.deleteTask("old")).toBe(true);
    const after = openRaw();
    expect(countRows(after, "task_events", "old")).toBe(0);
    expect(countRows(after, "task_logs", "old")).toBe(0);
  });
  test("a database at 0003 keeps events of every action; an action outside EVENT_ACTIONS is refused after", () => {
    const old = oldDatabase(["0000_init", "0001_event_source", "0002_lean_writes", "0003_task_context"]);
    old.exec(
      "INSERT INTO tasks (id, task_name, status, created_at, updated_at) VALUES ('old', 'echo', 'FINISHED', 1, 1)",
    );
    for (const action of EVENT_ACTIONS) {
      old.exec(
        `INSERT INTO task_events (task_id, at, to_status, action, actor) VALUES ('old', 1, 'FINISHED', '${action}', 'kiln')`,
      );
    }
    // Before the migration the column takes anything.
    old.exec("INSERT INTO task_events (task_id, at, action) VALUES ('old', 1, 'unknown')");
    old.exec("DELETE FROM task_events WHERE action = 'unknown'");
    const eventsBefore = old.query("SELECT * FROM task_events ORDER BY id").all();
    old.close();

    const store = openStore();
    const raw = openRaw();
    expect(raw.query("SELECT * FROM task_events ORDER BY id").all()).toEqual(eventsBefore);
    expect(store.listEvents("old", {}).items.map((e) => e.action)).toEqual([...EVENT_ACTIONS]);
    expect(() =>
      raw.exec("INSERT INTO task_events (task_id, at, action) VALUES ('old', 2, 'unknown')"),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      store.updateTask(
        "old",
        {}, // A value outside the type on purpose: the CHECK constraint must refuse it.
        { ...event("FINISHED", null, "pause"), action: "bogus" as EventAction },
      ),
    ).toThrow(/CHECK constraint failed/);
    expect(store.listEvents("old", {}).items).toHaveLength(EVENT_ACTIONS.length);
    // The foreign key survived the rebuild: deleting the task deletes its history.
    expect(raw.query("PRAGMA foreign_key_check").all()).toEqual([]);
    expect(store.deleteTask("old")).toBe(true);
    expect(countRows(openRaw(), "task_events", "old")).toBe(0);
  });
});

describe("createTask / getTask", () => {
  test("returns the row with params and tags round-tripped and writes one create event", () => {
    const store = openStore();
    const params = {
      text: "héllo “world” 🔥",
      n: 42.5,
      flag: false,
      nothing: null,
      list: [1, "two", { three: [3] }],
      nested: { deep: { deeper: true } },
    };
    const task = newTaskRow({ params, tags: ["alpha", "beta"], priority: 7, runAt: 12345 });
    const before = Date.now();
    const row = store.createTask(task, CREATED_EVENT);
    const after = Date.now();

    expect(row.id).toBe(task.id);
    expect(row.taskName).toBe("demo");
    expect(row.status).toBe("PENDING");
    expect(row.params).toEqual(params);
    expect(row.tags).toEqual(["alpha", "beta"]);
    expect(row.priority).toBe(7);
    expect(row.runAt).toBe(12345);
    expect(row.attempt).toBe(1);
    expect(row.retries).toBe(0);
    expect(row.requestedAction).toBeNull();
    expect(row.startTime).toBeNull();
    expect(row.endTime).toBeNull();
    expect(row.result).toBeNull();
    expect(row.checkpoint).toBeNull();
    expect(row.progress).toBeNull();
    expect(row.createdAt).toBeGreaterThanOrEqual(before);
    expect(row.createdAt).toBeLessThanOrEqual(after);
    expect(row.updatedAt).toBe(row.createdAt);

    expect(store.getTask(task.id)).toEqual(row);

    const events = store.listEvents(task.id, {}).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      taskId: task.id,
      fromStatus: null,
      toStatus: "PENDING",
      action: "create",
      reason: null,
      actor: "test",
      at: row.createdAt,
    });
    expect(countRows(openRaw(), "task_events")).toBe(1);
  });

  test("round-trips primitive params and a PAUSED initial status", () => {
    const store = openStore();
    const a = store.createTask(newTaskRow({ params: "just a string" }), CREATED_EVENT);
    const b = store.createTask(newTaskRow({ params: [1, 2, 3], status: "PAUSED" }), CREATED_EVENT);
    const c = store.createTask(newTaskRow({ params: null }), CREATED_EVENT);
    expect(store.getTask(a.id)?.params).toBe("just a string");
    expect(store.getTask(b.id)?.params).toEqual([1, 2, 3]);
    expect(store.getTask(b.id)?.status).toBe("PAUSED");
    expect(store.getTask(c.id)?.params).toBeNull();
  });

  test("getTask of a missing id is undefined", () => {
    const store = openStore();
    expect(store.getTask(Bun.randomUUIDv7())).toBeUndefined();
    expect(store.getTask("")).toBeUndefined();
  });
});

describe("idempotency keys", () => {
  test("findByIdempotencyKey finds the task with that key only", () => {
    const store = openStore();
    const keyed = store.createTask(newTaskRow({ idempotencyKey: "key-1" }), CREATED_EVENT);
    store.createTask(newTaskRow({ idempotencyKey: "key-2" }), CREATED_EVENT);
    store.createTask(newTaskRow(), CREATED_EVENT);
    expect(store.findByIdempotencyKey("key-1")?.id).toBe(keyed.id);
    expect(store.findByIdempotencyKey("nope")).toBeUndefined();
  });

  test("the unique index rejects a duplicate key and the failed insert leaves nothing behind", () => {
    const store = openStore();
    const first = store.createTask(newTaskRow({ idempotencyKey: "dup" }), CREATED_EVENT);
    const second = newTaskRow({ idempotencyKey: "dup" });
    expect(() => store.createTask(second, CREATED_EVENT)).toThrow(/UNIQUE/i);

    expect(store.getTask(second.id)).toBeUndefined();
    expect(store.findByIdempotencyKey("dup")?.id).toBe(first.id);
    const raw = openRaw();
    expect(countRows(raw, "tasks")).toBe(1);
    expect(countRows(raw, "task_events")).toBe(1);
  });

  test("several tasks without a key are allowed", () => {
    const store = openStore();
    store.createTask(newTaskRow(), CREATED_EVENT);
    store.createTask(newTaskRow(), CREATED_EVENT);
    expect(countRows(openRaw(), "tasks")).toBe(2);
  });
});

describe("listTasks", () => {
  test("pages newest first over 120 tasks: 50/50/20, no duplicates, no gaps", () => {
    const store = openStore();
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push(store.createTask(newTaskRow(), CREATED_EVENT).id);
    const newestFirst = [...ids].reverse();

    const sizes: number[] = [];
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.listTasks({ limit: 50, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((t) => t.id));
      if (page.nextCursor === null) break;
      expect(page.nextCursor).toBe(page.items.at(-1)?.id as string);
      cursor = page.nextCursor;
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(new Set(seen).size).toBe(120);
    expect(seen).toEqual(newestFirst);
  });

  test("a last page that is exactly full has no next cursor", () => {
    const store = openStore();
    for (let i = 0; i < 10; i++) store.createTask(newTaskRow(), CREATED_EVENT);
    const first = store.listTasks({ limit: 5 });
    expect(first.items).toHaveLength(5);
    expect(first.nextCursor).not.toBeNull();
    const second = store.listTasks({ limit: 5, cursor: first.nextCursor ?? undefined });
    expect(second.items).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
  });

  test("an empty store gives an empty page", () => {
    const store = openStore();
    expect(store.listTasks({})).toEqual({ items: [], nextCursor: null });
  });

  test("filters by status, name and tag, alone, together and across pages", () => {
    const store = openStore();
    const made: { id: string; name: string; status: TaskStatus; tags: string[] | null }[] = [];
    const tagSets: (string[] | null)[] = [["a"], ["b"], ["a", "b"], null, ["ab"], []];
    const statuses: TaskStatus[] = ["PENDING", "RUNNING", "FINISHED", "PAUSED"];
    for (let i = 0; i < 48; i++) {
      const name = i % 3 === 0 ? "resize" : "email";
      const status = statuses[i % statuses.length] as TaskStatus;
      const tags = tagSets[i % tagSets.length] ?? null;
      made.push({ id: createIn(store, status, { taskName: name, tags }), name, status, tags });
    }
    const newestFirst = [...made].reverse();

    const all = (query: { status?: TaskStatus; name?: string; tag?: string }) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = store.listTasks({ ...query, limit: 4, cursor });
        expect(page.items.length).toBeLessThanOrEqual(4);
        ids.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    const expected = (pred: (m: (typeof made)[number]) => boolean) =>
      newestFirst.filter(pred).map((m) => m.id);

    expect(all({ status: "RUNNING" })).toEqual(expected((m) => m.status === "RUNNING"));
    expect(all({ name: "resize" })).toEqual(expected((m) => m.name === "resize"));
    expect(all({ tag: "a" })).toEqual(expected((m) => m.tags?.includes("a") ?? false));
    expect(all({ tag: "ab" })).toEqual(expected((m) => m.tags?.includes("ab") ?? false));
    expect(all({ tag: "b" })).toEqual(expected((m) => m.tags?.includes("b") ?? false));
    expect(all({ tag: "missing" })).toEqual([]);
    expect(all({ name: "nobody" })).toEqual([]);
    expect(all({ status: "FINISHED", name: "email", tag: "a" })).toEqual(
      expected((m) => m.status === "FINISHED" && m.name === "email" && (m.tags?.includes("a") ?? false)),
    );
    // Sanity: each filter actually selects something in this fixture.
    expect(
      expected((m) => m.status === "FINISHED" && m.name === "email" && !!m.tags?.includes("a")).length,
    ).toBe(4);

    // Tags stay a JSON array in the column.
    const raw = openRaw();
    const first = made.find((m) => m.tags?.length === 2);
    const stored = raw
      .query<{ tags: string }, [string]>("SELECT tags FROM tasks WHERE id = ?")
      .get(first?.id as string);
    expect(JSON.parse(stored?.tags ?? "null")).toEqual(["a", "b"]);
  });

  test("the limit is capped at 500 and is at least 1", () => {
    const store = openStore();
    for (let i = 0; i < MAX_PAGE_SIZE + 10; i++) store.createTask(newTaskRow(), CREATED_EVENT);

    const big = store.listTasks({ limit: 10_000 });
    expect(big.items).toHaveLength(500);
    expect(big.nextCursor).not.toBeNull();
    const rest = store.listTasks({ limit: 10_000, cursor: big.nextCursor ?? undefined });
    expect(rest.items).toHaveLength(10);
    expect(rest.nextCursor).toBeNull();

    expect(store.listTasks({ limit: 0 }).items).toHaveLength(1);
    expect(store.listTasks({ limit: -20 }).items).toHaveLength(1);
    expect(store.listTasks({}).items).toHaveLength(50);
    expect(store.listTasks({ limit: Number.NaN }).items).toHaveLength(50);
    expect(store.listTasks({ limit: 2.9 }).items).toHaveLength(2);
  });

  test("pageSize clamps and defaults", () => {
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize(0)).toBe(1);
    expect(pageSize(-1)).toBe(1);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(500)).toBe(500);
    expect(pageSize(501)).toBe(500);
    expect(pageSize(Number.POSITIVE_INFINITY)).toBe(50);
  });
});

describe("listActive", () => {
  test("returns PENDING, RUNNING and PAUSED tasks, oldest first", () => {
    const store = openStore();
    const ids = new Map<TaskStatus, string>();
    for (const status of ["FINISHED", "PENDING", "FAILED", "RUNNING", "STOPPED", "PAUSED"] as const) {
      ids.set(status, createIn(store, status));
    }
    const expected = (["PENDING", "RUNNING", "PAUSED"] as const).map((s) => ids.get(s) as string);
    expect(store.listActive().map((t) => t.id)).toEqual(expected);
  });
});

describe("transition", () => {
  test("applies only when the status is in `from` and writes exactly one event", () => {
    const store = openStore();
    const id = store.createTask(newTaskRow(), CREATED_EVENT).id;

    const refused = store.transition(
      id,
      ["RUNNING", "PAUSED"],
      { status: "FINISHED", result: { nope: true } },
      event("RUNNING", "FINISHED", "finish"),
    );
    expect(refused).toBeUndefined();
    expect(store.getTask(id)?.status).toBe("PENDING");
    expect(store.getTask(id)?.result).toBeNull();
    expect(store.listEvents(id, {}).items).toHaveLength(1);

    const moved = store.transition(
      id,
      ["PENDING"],
      { status: "RUNNING", lastRunTime: 111 },
      event("PENDING", "RUNNING", "start", "slot free"),
    );
    expect(moved?.status).toBe("RUNNING");
    expect(moved?.lastRunTime).toBe(111);
    expect(store.getTask(id)).toEqual(moved);

    const events = store.listEvents(id, {}).items;
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      taskId: id,
      fromStatus: "PENDING",
      toStatus: "RUNNING",
      action: "start",
      reason: "slot free",
      actor: "test",
    });
    expect(events[1]?.at).toBe(moved?.updatedAt as number);

    // A late duplicate of the same transition is refused.
    expect(
      store.transition(id, ["PENDING"], { status: "RUNNING" }, event("PENDING", "RUNNING", "start")),
    ).toBe(undefined);
    expect(store.listEvents(id, {}).items).toHaveLength(2);

    const finished = store.transition(
      id,
      ["RUNNING"],
      { status: "FINISHED", result: { ok: [1, 2] }, endTime: 222, requestedAction: null },
      event("RUNNING", "FINISHED", "finish"),
    );
    expect(finished?.result).toEqual({ ok: [1, 2] });
    expect(finished?.endTime).toBe(222);
    expect(store.listEvents(id, {}).items.map((e) => e.action)).toEqual(["create", "start", "finish"]);
  });

  test("a missing task or an empty `from` changes nothing", () => {
    const store = openStore();
    const id = store.createTask(newTaskRow(), CREATED_EVENT).id;
    expect(
      store.transition(Bun.randomUUIDv7(), ["PENDING"], { status: "RUNNING" }, event(null, null, "pause")),
    ).toBe(undefined);
    expect(store.transition(id, [], { status: "RUNNING" }, event(null, null, "pause"))).toBeUndefined();
    expect(store.getTask(id)?.status).toBe("PENDING");
    expect(countRows(openRaw(), "task_events")).toBe(1);
  });

  test("startTime keeps the first start; an explicit null clears it", () => {
    const store = openStore();
    const id = store.createTask(newTaskRow(), CREATED_EVENT).id;

    const run1 = store.transition(
      id,
      ["PENDING"],
      { status: "RUNNING", startTime: 1_000 },
      event("PENDING", "RUNNING", "start"),
    );
    expect(run1?.startTime).toBe(1_000);

    // A retry goes back to PENDING without touching start_time …
    const retry = store.transition(
      id,
      ["RUNNING"],
      { status: "PENDING", runAt: 5 },
      event("RUNNING", "PENDING", "retry"),
    );
    expect(retry?.startTime).toBe(1_000);

    // … and the next run keeps the first start.
    const run2 = store.transition(
      id,
      ["PENDING"],
      { status: "RUNNING", startTime: 2_000 },
      event("PENDING", "RUNNING", "start"),
    );
    expect(run2?.startTime).toBe(1_000);
    expect(store.getTask(id)?.startTime).toBe(1_000);

    // A restart clears it explicitly; the next run sets it again.
    const restarted = store.transition(
      id,
      ["RUNNING"],
      { status: "PENDING", startTime: null, attempt: 2 },
      event("RUNNING", "PENDING", "restart"),
    );
    expect(restarted?.startTime).toBeNull();
    expect(restarted?.attempt).toBe(2);
    const run3 = store.transition(
      id,
      ["PENDING"],
      { status: "RUNNING", startTime: 3_000 },
      event("PENDING", "RUNNING", "start"),
    );
    expect(run3?.startTime).toBe(3_000);

    // updateTask follows the same rule.
    expect(store.updateTask(id, { startTime: 4_000 })?.startTime).toBe(3_000);
    expect(store.updateTask(id, { startTime: null })?.startTime).toBeNull();
    expect(store.updateTask(id, { startTime: 5_000 })?.startTime).toBe(5_000);
  });
});

describe("updateTask", () => {
  test("without an event changes columns and writes no event", () => {
    const store = openStore();
    const created = store.createTask(newTaskRow(), CREATED_EVENT);
    const updated = store.updateTask(created.id, {
      requestedAction: "pause",
      progress: { done: 3, total: 10, message: "three" },
      retries: 2,
    });
    expect(updated?.requestedAction).toBe("pause");
    expect(updated?.progress).toEqual({ done: 3, total: 10, message: "three" });
    expect(updated?.retries).toBe(2);
    expect(updated?.status).toBe("PENDING");
    expect(updated?.updatedAt).toBeGreaterThanOrEqual(created.updatedAt);
    expect(store.getTask(created.id)).toEqual(updated);
    expect(store.listEvents(created.id, {}).items).toHaveLength(1);
  });

  test("with an event writes the event in the same call", () => {
    const store = openStore();
    const id = createIn(store, "RUNNING");
    const updated = store.updateTask(
      id,
      { requestedAction: "stop" },
      {
        fromStatus: null,
        toStatus: null,
        action: "stop",
        reason: "operator",
        actor: "cli",
        source: "10.0.0.7",
      },
    );
    expect(updated?.requestedAction).toBe("stop");
    const last = store.listEvents(id, {}).items.at(-1);
    expect(last).toMatchObject({
      fromStatus: null,
      toStatus: null,
      action: "stop",
      reason: "operator",
      actor: "cli",
      source: "10.0.0.7",
    });
  });

  test("of a missing task returns undefined and writes no event", () => {
    const store = openStore();
    const missing = Bun.randomUUIDv7();
    expect(store.updateTask(missing, { retries: 1 }, event(null, null, "pause"))).toBeUndefined();
    expect(countRows(openRaw(), "task_events")).toBe(0);
  });
});

describe("writeTelemetry", () => {
  test("writes progress, checkpoints and logs together", () => {
    const store = openStore();
    const running = createIn(store, "RUNNING");
    const paused = createIn(store, "PAUSED");
    const batch = emptyBatch();
    batch.progress.set(running, { done: 5, total: 9, message: "five" });
    batch.progress.set(paused, { done: 1, total: null, message: null });
    batch.checkpoints.set(running, { cursor: "abc", seen: [1, 2] });
    batch.checkpoints.set(paused, 17);
    batch.logs.push(
      { taskId: running, at: 10, level: "info", message: "one" },
      { taskId: running, at: 11, level: "warn", message: "two" },
      { taskId: paused, at: 12, level: "error", message: "three" },
    );
    store.writeTelemetry(batch);

    expect(store.getTask(running)?.progress).toEqual({ done: 5, total: 9, message: "five" });
    expect(store.getTask(running)?.checkpoint).toEqual({ cursor: "abc", seen: [1, 2] });
    expect(store.getTask(paused)?.progress).toEqual({ done: 1, total: null, message: null });
    expect(store.getTask(paused)?.checkpoint).toBe(17);
    expect(store.listLogs(running, {}).items.map((l) => [l.at, l.level, l.message])).toEqual([
      [10, "info", "one"],
      [11, "warn", "two"],
    ]);
    expect(store.listLogs(paused, {}).items.map((l) => l.message)).toEqual(["three"]);
    // Telemetry is not history.
    expect(store.listEvents(running, {}).items.map((e) => e.action)).toEqual(["create", "start"]);
  });

  test("ignores checkpoints of tasks in a final status", () => {
    const store = openStore();
    const ids = (["FINISHED", "FAILED", "STOPPED"] as const).map((s) => createIn(store, s));
    const live = createIn(store, "RUNNING");
    const batch = emptyBatch();
    for (const id of ids) batch.checkpoints.set(id, { late: true });
    batch.checkpoints.set(live, { late: false });
    store.writeTelemetry(batch);
    for (const id of ids) expect(store.getTask(id)?.checkpoint).toBeNull();
    expect(store.getTask(live)?.checkpoint).toEqual({ late: false });
  });

  test("drops log lines of a deleted task without failing the other lines", () => {
    const store = openStore();
    const kept = createIn(store, "RUNNING");
    const gone = createIn(store, "FINISHED");
    expect(store.deleteTask(gone)).toBe(true);
    const neverExisted = Bun.randomUUIDv7();

    const batch = emptyBatch();
    batch.progress.set(kept, { done: 1, total: 2, message: null });
    batch.progress.set(gone, { done: 1, total: 2, message: null });
    batch.logs.push(
      { taskId: kept, at: 1, level: "info", message: "before" },
      { taskId: gone, at: 2, level: "info", message: "orphan" },
      { taskId: neverExisted, at: 3, level: "info", message: "stranger" },
      { taskId: kept, at: 4, level: "info", message: "after" },
    );
    expect(() => store.writeTelemetry(batch)).not.toThrow();

    expect(store.listLogs(kept, {}).items.map((l) => l.message)).toEqual(["before", "after"]);
    expect(store.getTask(kept)?.progress).toEqual({ done: 1, total: 2, message: null });
    const raw = openRaw();
    expect(countRows(raw, "task_logs")).toBe(2);
    expect(countRows(raw, "tasks", gone)).toBe(0);
  });

  test("an empty batch writes nothing", () => {
    const store = openStore();
    const id = createIn(store, "RUNNING");
    const before = store.getTask(id);
    store.writeTelemetry(emptyBatch());
    expect(store.getTask(id)).toEqual(before);
  });
});

describe("listEvents / listLogs", () => {
  test("listLogs pages oldest first with `after`", () => {
    const store = openStore();
    const id = createIn(store, "RUNNING");
    const other = createIn(store, "RUNNING");
    const batch = emptyBatch();
    for (let i = 0; i < 7; i++) {
      batch.logs.push({ taskId: id, at: i, level: "info", message: `line ${i}` });
      batch.logs.push({ taskId: other, at: i, level: "debug", message: `other ${i}` });
    }
    store.writeTelemetry(batch);

    const messages: string[] = [];
    const sizes: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = store.listLogs(id, { limit: 3, after });
      sizes.push(page.items.length);
      messages.push(...page.items.map((l) => l.message));
      for (const item of page.items) expect(item.taskId).toBe(id);
      if (page.nextCursor === null) break;
      expect(page.nextCursor).toBe(page.items.at(-1)?.id as number);
      after = page.nextCursor;
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(messages).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `line ${i}`));

    const all = store.listLogs(id, {}).items;
    expect(store.listLogs(id, { after: all.at(-1)?.id }).items).toEqual([]);
    expect(store.listLogs(id, { after: all[4]?.id }).items.map((l) => l.message)).toEqual([
      "line 5",
      "line 6",
    ]);
  });

  test("listEvents pages oldest first with `after`", () => {
    const store = openStore();
    const id = store.createTask(newTaskRow(), CREATED_EVENT).id;
    const other = store.createTask(newTaskRow(), CREATED_EVENT).id;
    for (let i = 0; i < 5; i++) {
      store.updateTask(id, { retries: i }, event(null, null, "pause", `note-${i}`));
      store.updateTask(other, { retries: i }, event(null, null, "pause", `other-${i}`));
    }

    const first = store.listEvents(id, { limit: 4 });
    expect(first.items.map((e) => e.reason)).toEqual([null, "note-0", "note-1", "note-2"]);
    expect(first.nextCursor).toBe(first.items[3]?.id as number);
    const second = store.listEvents(id, { limit: 4, after: first.nextCursor ?? undefined });
    expect(second.items.map((e) => e.reason)).toEqual(["note-3", "note-4"]);
    expect(second.nextCursor).toBeNull();
    expect(store.listEvents(Bun.randomUUIDv7(), {})).toEqual({ items: [], nextCursor: null });
  });
});

describe("deleteTask", () => {
  test("refuses live tasks", () => {
    const store = openStore();
    for (const status of ["PENDING", "RUNNING", "PAUSED"] as const) {
      const id = createIn(store, status);
      expect(store.deleteTask(id)).toBe(false);
      expect(store.getTask(id)?.status).toBe(status);
    }
    expect(store.deleteTask(Bun.randomUUIDv7())).toBe(false);
  });

  test("deletes an ended task with its events and logs", () => {
    const store = openStore();
    const ended = (["FINISHED", "FAILED", "STOPPED"] as const).map((s) => createIn(store, s));
    const keep = createIn(store, "FINISHED");
    const batch = emptyBatch();
    for (const id of [...ended, keep]) {
      batch.logs.push({ taskId: id, at: 1, level: "info", message: "x" });
    }
    // Logs are written while the tasks are final; the store accepts lines for any existing task.
    store.writeTelemetry(batch);
    const raw = openRaw();
    for (const id of ended) {
      expect(countRows(raw, "task_events", id)).toBeGreaterThan(0);
      expect(countRows(raw, "task_logs", id)).toBe(1);
    }

    for (const id of ended) {
      expect(store.deleteTask(id)).toBe(true);
      expect(store.getTask(id)).toBeUndefined();
      expect(countRows(raw, "tasks", id)).toBe(0);
      expect(countRows(raw, "task_events", id)).toBe(0);
      expect(countRows(raw, "task_logs", id)).toBe(0);
      expect(store.deleteTask(id)).toBe(false);
    }
    expect(countRows(raw, "task_events", keep)).toBe(3);
    expect(countRows(raw, "task_logs", keep)).toBe(1);
  });
});

describe("countByStatus", () => {
  test("counts every status, zeros included", () => {
    const store = openStore();
    expect(store.countByStatus()).toEqual({
      PENDING: 0,
      RUNNING: 0,
      PAUSED: 0,
      FINISHED: 0,
      FAILED: 0,
      STOPPED: 0,
    });
    createIn(store, "PENDING");
    createIn(store, "PENDING");
    createIn(store, "RUNNING");
    createIn(store, "FINISHED");
    createIn(store, "FINISHED");
    createIn(store, "FINISHED");
    createIn(store, "STOPPED");
    expect(store.countByStatus()).toEqual({
      PENDING: 2,
      RUNNING: 1,
      PAUSED: 0,
      FINISHED: 3,
      FAILED: 0,
      STOPPED: 1,
    });
  });

  test("scanStatusAndName walks every task's id, status and name in id order, a step at a time", () => {
    const store = openStore();
    expect(store.scanStatusAndName(null, 3)).toEqual([]);
    const [a1, a2, b1, b2] = [
      createIn(store, "FINISHED", { taskName: "a" }),
      createIn(store, "FINISHED", { taskName: "a" }),
      createIn(store, "FINISHED", { taskName: "b" }),
      createIn(store, "PAUSED", { taskName: "b" }),
    ];
    const first = store.scanStatusAndName(null, 3);
    expect(first).toEqual([
      { id: a1, status: "FINISHED", name: "a" },
      { id: a2, status: "FINISHED", name: "a" },
      { id: b1, status: "FINISHED", name: "b" },
    ]);
    expect(store.scanStatusAndName(b1, 3)).toEqual([{ id: b2, status: "PAUSED", name: "b" }]);
  });
});

describe("the database file", () => {
  test("the CHECK constraints reject an invalid status or requested action written with raw SQL", () => {
    const store = openStore();
    const id = createIn(store, "RUNNING");
    const raw = openRaw();
    expect(() => raw.run("UPDATE tasks SET status = 'DONE' WHERE id = ?", [id])).toThrow(/CHECK/i);
    expect(() => raw.run("UPDATE tasks SET status = 'running' WHERE id = ?", [id])).toThrow(/CHECK/i);
    expect(() => raw.run("UPDATE tasks SET requested_action = 'explode' WHERE id = ?", [id])).toThrow(
      /CHECK/i,
    );
    expect(() =>
      raw.run("INSERT INTO task_logs (task_id, at, level, message) VALUES (?, 1, 'loud', 'x')", [id]),
    ).toThrow(/CHECK/i);
    expect(store.getTask(id)?.status).toBe("RUNNING");
    expect(() => raw.run("UPDATE tasks SET status = 'FAILED' WHERE id = ?", [id])).not.toThrow();
    expect(store.getTask(id)?.status).toBe("FAILED");
  });

  test("a file-backed store is in WAL mode", () => {
    openStore();
    const raw = openRaw();
    const mode = raw.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get();
    expect(mode?.journal_mode.toLowerCase()).toBe("wal");
  });

  test("a store reopened on the same file sees the data", () => {
    const first = openStore();
    const id = createIn(first, "RUNNING", { params: { a: [1, 2] }, tags: ["t"], idempotencyKey: "k" });
    const batch = emptyBatch();
    batch.progress.set(id, { done: 2, total: 4, message: "half" });
    batch.checkpoints.set(id, { step: 2 });
    batch.logs.push({ taskId: id, at: 5, level: "info", message: "persisted" });
    first.writeTelemetry(batch);
    const ended = createIn(first, "FINISHED");
    const before = first.getTask(id);
    first.close();
    stores.splice(stores.indexOf(first), 1);

    const second = openStore();
    expect(second.getTask(id)).toEqual(before);
    expect(second.getTask(id)?.checkpoint).toEqual({ step: 2 });
    expect(second.findByIdempotencyKey("k")?.id).toBe(id);
    expect(second.listEvents(id, {}).items.map((e) => e.action)).toEqual(["create", "start"]);
    expect(second.listLogs(id, {}).items.map((l) => l.message)).toEqual(["persisted"]);
    expect(second.getTask(ended)?.status).toBe("FINISHED");
    expect(second.listTasks({}).items.map((t) => t.id)).toEqual([ended, id]);
  });
});

test("close() is idempotent", () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-close-"));
  try {
    const store = new SqliteSyncStore({ path: join(dir, "kiln.db") });
    store.migrate();
    store.close();
    expect(() => store.close()).not.toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
