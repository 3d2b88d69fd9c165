// The SQLite plan of a tag filter: the page is read from the tags' index, newest first, not by
// parsing the tags of every task (at 1,000,000 tasks that took 170 ms for a rare tag and 370 ms
// for one no task has).
import type { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import type { ListTasksQuery } from "../../src/store/index.ts";
import { listTasksSql } from "../../src/store/list-tasks-sql.ts";
import { tempDir } from "../helpers.ts";
import { migratedDatabase, queryPlan } from "./query-plans.ts";

const dir = tempDir("kiln-tag-plans-");
afterAll(() => dir.remove());

function plan(db: Database, query: ListTasksQuery): string[] {
  const { sql, params } = listTasksSql(query, "sqlite", 51);
  return queryPlan(db, sql, params);
}

test("a tag alone, or with a status, a name or a cursor, walks the tags' index newest first and joins each task by its key", async () => {
  const db = await migratedDatabase(dir.path);
  try {
    for (const query of [
      { tag: "red" },
      { tag: "red", status: "FAILED" as const },
      { tag: "red", name: "echo", cursor: "0190" },
    ]) {
      const steps = plan(db, query);
      // No sort step: the index gives the page's order.
      expect({ query, steps }).toEqual({
        query,
        steps: [
          expect.stringMatching(/^SEARCH g USING COVERING INDEX task_tags_tag \(tag=\?/),
          expect.stringMatching(/^SEARCH t USING INDEX \w+ \(((status|task_name)=\? AND )?id=\?\)$/),
        ],
      });
    }
  } finally {
    db.close();
  }
});

test("a tag with a params field is looked up by each task's key, never with json_each", async () => {
  const db = await migratedDatabase(dir.path);
  try {
    const steps = plan(db, { tag: "red", params: [{ path: "customer", value: "c-1" }] }).join("; ");
    expect(steps).toContain("task_params_path_value");
    expect(steps).toContain(
      "SEARCH g EXISTS USING COVERING INDEX sqlite_autoindex_task_tags_1 (task_id=? AND tag=?)",
    );
    expect(steps).not.toContain("json_each");
  } finally {
    db.close();
  }
});
