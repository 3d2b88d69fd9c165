// How the SQLite store reads a page of tasks by end time: through the end-time index when few tasks
// ended in the window (without it, a window no task ended in read every task: 300 ms at 1,000,000),
// by walking the tasks newest first when many did; the same pages either way.
import { Database } from "bun:sqlite";
import { afterAll, expect, spyOn, test } from "bun:test";
import { type ListTasksQuery, SqliteTaskStore } from "../../src/store/index.ts";
import { END_WINDOW_INDEX_MAX, listTasksSql } from "../../src/store/list-tasks-sql.ts";
import { tempDir } from "../helpers.ts";
import { migratedDatabase, queryPlan } from "./query-plans.ts";
import { sqliteStores } from "./sqlite-stores.ts";

const dir = tempDir("kiln-end-window-");
afterAll(() => dir.remove());
const stores = sqliteStores("kiln-end-window-store-");

test("the index plan reads the window from the end-time index; the other walks the tasks newest first", async () => {
  const db = await migratedDatabase(dir.path);
  try {
    const plan = (query: ListTasksQuery, endTimeIndex: boolean) => {
      const { sql, params } = listTasksSql(query, "sqlite", 51, endTimeIndex);
      return queryPlan(db, sql, params).join("; ");
    };
    for (const query of [
      { endedAfter: 5 },
      { endedBefore: 5 },
      { endedAfter: 5, endedBefore: 9, status: "FAILED" as const, name: "echo", cursor: "0190" },
    ]) {
      expect({ query, plan: plan(query, true) }).toEqual({
        query,
        plan: expect.stringMatching(
          /^SEARCH t USING INDEX tasks_end_time \(end_time[<>]\?.*USE TEMP B-TREE FOR ORDER BY$/,
        ),
      });
      expect({ query, plan: plan(query, false) }).toEqual({
        query,
        plan: expect.not.stringContaining("tasks_end_time"),
      });
    }
  } finally {
    db.close();
  }
});

test("the index plan is refused where it does not apply: PostgreSQL, a tag, a params field, no end time", () => {
  for (const [query, dialect] of [
    [{ endedAfter: 5 }, "postgres"],
    [{ endedAfter: 5, tag: "red" }, "sqlite"],
    [{ endedAfter: 5, params: [{ path: "a", value: "b" }] }, "sqlite"],
    [{ createdAfter: 5 }, "sqlite"],
  ] as const) {
    expect(() => listTasksSql(query, dialect, 51, true)).toThrow("end-time index plan");
  }
});

/**
 * `count` tasks that ended, one every 2 ms from `t0` but out of their creation order, then 300
 * queued tasks created after them; written on a connection of the test's own.
 */
function fill(path: string, count: number, t0: number): void {
  const db = new Database(path);
  try {
    const insert = db.prepare(
      `INSERT INTO tasks (id, task_name, status, params, priority, end_time, created_at, updated_at)
       VALUES (?, 'echo', ?, 'null', 0, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        // Every 7th task ends late, among tasks made well after it; no two at the same time.
        const end = t0 + (i % 7 === 0 ? 2 * Math.min(count - 1, i + 400) + 1 : 2 * i);
        insert.run(Bun.randomUUIDv7(), i % 5 === 0 ? "FAILED" : "FINISHED", end, Date.now(), end);
      }
      for (let i = 0; i < 300; i++) insert.run(Bun.randomUUIDv7(), "PENDING", null, Date.now(), Date.now());
    })();
  } finally {
    db.close();
  }
}

async function allIds(store: SqliteTaskStore, query: ListTasksQuery): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listTasks({ ...query, limit: 97, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((task) => task.id));
    if (page.nextCursor === null) return ids;
    cursor = page.nextCursor;
  }
}

test("a window read through the index and one walked give exactly the tasks that ended in it, newest first", async () => {
  const path = (await stores.open()).location;
  const total = END_WINDOW_INDEX_MAX * 2 + 500;
  // After the ids' own time: a task never ends before it is made, and the store relies on it.
  const t0 = Date.now() + 60_000;
  fill(path, total, t0);
  const db = new Database(path, { readonly: true });
  const prepare = spyOn(Database.prototype, "prepare");
  try {
    const expected = (query: ListTasksQuery) =>
      db
        .query<{ id: string }, [number, number, string]>(
          `SELECT id FROM tasks WHERE end_time >= ? AND end_time < ? AND status LIKE ? ORDER BY id DESC`,
        )
        .all(query.endedAfter ?? 0, query.endedBefore ?? Number.MAX_SAFE_INTEGER, query.status ?? "%")
        .map((row) => row.id);
    const ended = (query: ListTasksQuery) =>
      db
        .query<{ n: number }, [number, number]>(
          "SELECT count(*) AS n FROM tasks WHERE end_time >= ? AND end_time < ?",
        )
        .get(query.endedAfter ?? 0, query.endedBefore ?? Number.MAX_SAFE_INTEGER)?.n ?? 0;
    // The end times in order: a window that ends at the cap-th holds one task fewer than the cap.
    const ends = db
      .query<{ end_time: number }, []>(
        "SELECT end_time FROM tasks WHERE end_time IS NOT NULL ORDER BY end_time",
      )
      .all()
      .map((row) => row.end_time);
    const cap = ends[END_WINDOW_INDEX_MAX - 1] ?? 0;
    const queries: ListTasksQuery[] = [
      { endedAfter: t0 + 2 * total + 60_000 }, // nothing ended then
      { endedAfter: t0 + 2_000, endedBefore: t0 + 2_200 },
      { endedBefore: cap },
      { endedBefore: cap + 1 },
      { endedAfter: t0 + 2 * total - 1_400 },
      { endedBefore: t0 + 600 },
      { endedAfter: t0 },
      { endedAfter: t0 + 400, endedBefore: t0 + 4_600, status: "FAILED" },
      { endedAfter: t0 + 400, endedBefore: t0 + 1_800, status: "FAILED" },
    ];
    const cases = queries.map((query) => {
      const plan: "index" | "walk" = ended(query) < END_WINDOW_INDEX_MAX ? "index" : "walk";
      return [query, plan] as const;
    });
    // Both plans, on either side of the cap.
    expect(cases.map(([, plan]) => plan)).toEqual([
      "index",
      "index",
      "index",
      "walk",
      "index",
      "index",
      "walk",
      "walk",
      "index",
    ]);
    expect([ended({ endedBefore: cap }), ended({ endedBefore: cap + 1 })]).toEqual([
      END_WINDOW_INDEX_MAX - 1,
      END_WINDOW_INDEX_MAX,
    ]);
    for (const [query, plan] of cases) {
      // A store of its own, whose connection prepares each statement it runs anew.
      const store = new SqliteTaskStore({ path, backgroundCheckpoints: false });
      prepare.mockClear();
      try {
        const ids = await allIds(store, query);
        const want = expected(query);
        expect({ query, count: ids.length }).toEqual({ query, count: want.length });
        expect(ids).toEqual(want);
      } finally {
        await store.close();
      }
      const lists = prepare.mock.calls
        .map(([sql]) => String(sql))
        .filter((sql) => sql.startsWith("SELECT t.* FROM tasks t"));
      // The first page, and the next ones (with a cursor, a statement of another shape).
      expect(lists.length).toBeGreaterThan(0);
      for (const sql of lists) {
        expect({ query, indexed: sql.includes("INDEXED BY tasks_end_time") }).toEqual({
          query,
          indexed: plan === "index",
        });
      }
    }
  } finally {
    prepare.mockRestore();
    db.close();
  }
});
