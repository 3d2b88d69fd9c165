// The SET clause of a task UPDATE on SQLite: its text is decided by its shape alone, so the
// statement looked up by shape binds each value to the assignment it was meant for.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import type { TaskPatch } from "../../src/store/records.ts";
import { TaskRowCodec } from "../../src/store/task-rows.ts";

const codec = new TaskRowCodec(undefined);
const NOW = 1_700_000_000_000;

describe("TaskRowCodec.setClause", () => {
  test("the same fields in another order give the same text, shape and values", () => {
    const a: TaskPatch = { status: "FINISHED", result: { ok: 1 }, endTime: 5, addActiveMs: 7 };
    const b: TaskPatch = { addActiveMs: 7, endTime: 5, result: { ok: 1 }, status: "FINISHED" };
    const first = codec.setClause(a, NOW, "t1");
    const second = codec.setClause(b, NOW, "t1");
    expect(second).toEqual(first);
    expect(first.sql).toBe("status = ?, result = ?, end_time = ?, active_ms = active_ms + ?, updated_at = ?");
    expect(first.values).toEqual(["FINISHED", '{"ok":1}', 5, 7, NOW]);
  });

  test("fields left undefined are not set, and differ in shape from fields set to null", () => {
    const unset = codec.setClause({ status: "PAUSED", error: undefined }, NOW, "t1");
    const cleared = codec.setClause({ status: "PAUSED", error: null }, NOW, "t1");
    expect(unset.sql).toBe("status = ?, updated_at = ?");
    expect(cleared.sql).toBe("status = ?, error = ?, updated_at = ?");
    expect(cleared.values).toEqual(["PAUSED", null, NOW]);
    expect(cleared.shape).not.toBe(unset.shape);
  });

  test("a start time fills an empty column, an explicit null clears it: two shapes, two texts", () => {
    const fill = codec.setClause({ status: "RUNNING", startTime: 10 }, NOW, "t1");
    const clear = codec.setClause({ status: "PENDING", startTime: null }, NOW, "t1");
    expect(fill.sql).toBe("status = ?, start_time = coalesce(start_time, ?), updated_at = ?");
    expect(clear.sql).toBe("status = ?, start_time = ?, updated_at = ?");
    expect(fill.shape).not.toBe(clear.shape);
  });

  test("every assignment binds the value meant for it, run against a real row", () => {
    const db = new Database(":memory:");
    db.exec(
      "CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT, status_reason TEXT, attempt INT, retries INT, run_at INT, start_time INT, end_time INT, active_ms INT, updated_at INT)",
    );
    db.exec("INSERT INTO tasks VALUES ('t1', 'PENDING', NULL, 1, 0, NULL, NULL, NULL, 100, 0)");
    // Keys in an order unlike the SET clause's, values all different, so a value bound to the
    // wrong column shows.
    const patch: TaskPatch = {
      runAt: 33,
      retries: 2,
      addActiveMs: 5,
      statusReason: "why",
      attempt: 4,
      startTime: 22,
    };
    const set = codec.setClause(patch, NOW, "t1");
    db.prepare(`UPDATE tasks SET ${set.sql} WHERE id = ?`).run(...set.values, "t1");
    expect(db.query("SELECT * FROM tasks").get()).toEqual({
      id: "t1",
      status: "PENDING",
      status_reason: "why",
      attempt: 4,
      retries: 2,
      run_at: 33,
      start_time: 22,
      end_time: null,
      active_ms: 105,
      updated_at: NOW,
    });
  });
});
