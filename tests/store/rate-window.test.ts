// The history that seeds a rate window on SQLite (`recentRateStarts`), in a real SQLite file:
// only the name's starts within the window, the newest `count` per key, found through the
// partial index rather than a scan of the name's tasks or of the history.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteSyncStore } from "../../src/store/index.ts";
import { RECENT_RATE_STARTS_SQL } from "../../src/store/rate-window.ts";
import { newTaskRow, tempDir } from "../helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const ENGINE = { reason: null, actor: "kiln", source: null };

test("the newest count starts per key within the window, oldest first, through the index", () => {
  const dir = tempDir("kiln-rate-window-");
  const path = join(dir.path, "kiln.db");
  const store = new SqliteSyncStore({ path });
  cleanups.push(dir.remove, () => store.close());
  store.migrate();
  const now = Date.now();
  // Each task: its name, key and the times of its starts (a retry is a second start).
  const plan: Array<{ name: string; key: string | null; starts: number[] }> = [
    { name: "rated", key: "a", starts: [now - 900] },
    { name: "rated", key: "a", starts: [now - 800, now - 300] },
    { name: "rated", key: "a", starts: [now - 200] },
    { name: "rated", key: "b", starts: [now - 100] },
    { name: "rated", key: "a", starts: [now - 5_000] },
    { name: "other", key: "a", starts: [now - 50] },
    { name: "rated", key: null, starts: [now - 40] },
  ];
  const ids: string[] = [];
  for (const { name, key, starts } of plan) {
    const id = Bun.randomUUIDv7();
    ids.push(id);
    store.createTask(newTaskRow({ id, taskName: name, rateKey: key }), {
      fromStatus: null,
      toStatus: "PENDING",
      action: "create",
      ...ENGINE,
    });
    for (const _ of starts) {
      store.transition(
        id,
        ["PENDING"],
        { status: "RUNNING" },
        {
          fromStatus: "PENDING",
          toStatus: "RUNNING",
          action: "start",
          ...ENGINE,
        },
      );
      store.transition(
        id,
        ["RUNNING"],
        { status: "PENDING" },
        {
          fromStatus: "RUNNING",
          toStatus: "PENDING",
          action: "retry",
          ...ENGINE,
        },
      );
    }
  }
  // The history's times and last_run_time as planned (the store writes its own clock's).
  const raw = new Database(path);
  cleanups.push(() => raw.close());
  plan.forEach(({ starts }, index) => {
    const id = ids[index] as string;
    const events = raw
      .query<{ id: number }, [string]>(
        "SELECT id FROM task_events WHERE task_id = ? AND action = 'start' ORDER BY id",
      )
      .all(id);
    for (const [n, event] of events.entries()) {
      raw.run("UPDATE task_events SET at = ? WHERE id = ?", [starts[n] as number, event.id]);
    }
    raw.run("UPDATE tasks SET last_run_time = ? WHERE id = ?", [starts.at(-1) as number, id]);
  });

  expect(store.recentRateStarts("rated", now - 1_000, 2)).toEqual(
    [
      { rateKey: "a", at: now - 300 },
      { rateKey: "b", at: now - 100 },
      { rateKey: "a", at: now - 200 },
    ].sort((x, y) => x.at - y.at),
  );
  expect(store.recentRateStarts("rated", now - 1_000, 10).map((start) => start.at)).toEqual([
    now - 900,
    now - 800,
    now - 300,
    now - 200,
    now - 100,
  ]);
  expect(
    store.recentRateStarts("rated", now - 1_000, 10).filter((start) => start.rateKey === "a").length,
  ).toBe(4);

  const queryPlan = raw
    .query<{ detail: string }, [string, number, number, number]>(
      `EXPLAIN QUERY PLAN ${RECENT_RATE_STARTS_SQL}`,
    )
    .all("rated", now - 11_000, now - 1_000, 2)
    .map((row) => row.detail)
    .join("\n");
  // A search of the index by name and time, not a scan of the name's tasks or of the history.
  expect(queryPlan).toContain("SEARCH t USING INDEX tasks_rate_last_run (task_name=? AND last_run_time>?)");
  expect(queryPlan).toContain("SEARCH e USING INDEX task_events_task_id (task_id=?)");
});
