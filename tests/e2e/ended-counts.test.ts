// The store query behind GET /stats: ended tasks per minute, found by a binary search over the
// history's primary key rather than a scan of all of it.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteSyncStore } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";

const MINUTE = 60_000;
const dir = tempDir("kiln-ended-");
let store: SqliteSyncStore;

/** Endings at these times (ms), in id order: every third FAILED, the rest FINISHED. */
const TIMES = [1_000, 61_000, 61_500, 119_999, 120_000, 180_000, 240_000, 240_001, 300_000];

beforeAll(() => {
  const path = join(dir.path, "kiln.db");
  store = new SqliteSyncStore({ path });
  store.migrate();
  const db = new Database(path);
  db.run(
    "INSERT INTO tasks (id, task_name, status, created_at, updated_at) VALUES ('t', 'echo', 'FINISHED', 0, 0)",
  );
  const insert = db.prepare(
    "INSERT INTO task_events (task_id, at, from_status, to_status, action) VALUES ('t', ?, ?, ?, ?)",
  );
  TIMES.forEach((at, i) => {
    insert.run(at, "PENDING", "RUNNING", "start"); // not an ending: never counted
    insert.run(at, "RUNNING", i % 3 === 0 ? "FAILED" : "FINISHED", "finish");
  });
  insert.run(300_000, "RUNNING", null, "pause"); // a request: never counted
  db.close();
});

afterAll(() => {
  store.close();
  dir.remove();
});

const total = (since: number) =>
  store.countEndedSince(since, MINUTE).reduce((sum, row) => sum + row.count, 0);

describe("countEndedSince", () => {
  test("counts the endings at or after `since`, wherever it falls", () => {
    for (const since of [0, 1_000, 1_001, 61_000, 61_001, 119_999, 120_000, 120_001, 240_001, 300_000]) {
      expect(total(since)).toBe(TIMES.filter((at) => at >= since).length);
    }
    expect(total(300_001)).toBe(0);
  });

  test("groups by status and by bucket start", () => {
    expect(store.countEndedSince(60_000, MINUTE)).toEqual([
      { bucket: 60_000, status: "FAILED", count: 1 },
      { bucket: 60_000, status: "FINISHED", count: 2 },
      { bucket: 120_000, status: "FINISHED", count: 1 },
      { bucket: 180_000, status: "FINISHED", count: 1 },
      { bucket: 240_000, status: "FAILED", count: 1 },
      { bucket: 240_000, status: "FINISHED", count: 1 },
      { bucket: 300_000, status: "FINISHED", count: 1 },
    ]);
  });

  test("an empty history has nothing to count", () => {
    const empty = new SqliteSyncStore({ path: ":memory:" });
    empty.migrate();
    expect(empty.countEndedSince(0, MINUTE)).toEqual([]);
    empty.close();
  });
});
