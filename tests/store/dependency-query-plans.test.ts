// The SQLite plans of the dependency reads made at every task's end and every sweep: they start
// from the ended ids and from the held-back tasks' partial index, never from the status index,
// which would read every queued task each time (a backlog of N tasks made N ends cost N² reads).
import type { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { AWAITING_ON, SWEEP } from "../../src/store/sqlite-dependencies.ts";
import { tempDir } from "../helpers.ts";
import { migratedDatabase as migrated, queryPlan } from "./query-plans.ts";

const dir = tempDir("kiln-dependency-plans-");
afterAll(() => dir.remove());

async function migratedDatabase(): Promise<Database> {
  const db = await migrated(dir.path);
  // A backlog the planner knows of: many PENDING tasks, few held back.
  db.run("ANALYZE");
  return db;
}

const plan = (db: Database, sql: string, ...params: (string | number)[]) => queryPlan(db, sql, params);

test("the dependents of ended tasks are found from the ended ids, and the sweep from the held-back tasks' index", async () => {
  const db = await migratedDatabase();
  try {
    const awaitingOn = plan(db, AWAITING_ON, "[]");
    expect(awaitingOn[0]).toContain("task_dependencies_depends_on");
    expect(awaitingOn.some((line) => /SEARCH t USING INDEX tasks_status_id \(status=\?\)$/.test(line))).toBe(
      false,
    );
    const sweep = plan(db, SWEEP, 10);
    expect(sweep[0]).toBe("SCAN t USING INDEX tasks_awaiting");
    // Each held-back task's awaited rows by its own id, never a scan by status alone.
    expect(sweep.filter((line) => /\(status=\?\)$/.test(line))).toEqual([]);
  } finally {
    db.close();
  }
});
