// The tasks ended in the last hour, as /stats shows them: kept in memory on a store the engine
// has to itself, seeded from the history at start-up. They must equal what counting the history
// gives, through runs, failures, stops, restarts and a restart of kiln itself.
import { afterEach, expect, test } from "bun:test";
import { countEnded } from "../../src/engine/upkeep/ended-counts.ts";
import { EndedTally } from "../../src/engine/upkeep/ended-tally.ts";
import { silentLogger, TaskManager } from "../../src/index.ts";
import { SqliteTaskStore } from "../../src/store/index.ts";
import { FIXTURE_TASKS, tempDir, untilStatus } from "../helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function managerOn(db: string): Promise<TaskManager> {
  const manager = new TaskManager({ db, concurrency: 2, logger: silentLogger });
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  return manager;
}

/** The same question asked of the history, on a connection of its own. */
async function fromHistory(db: string, now: number) {
  const store = new SqliteTaskStore({ path: db, backgroundCheckpoints: false });
  try {
    return await countEnded(store, now, 60);
  } finally {
    await store.close();
  }
}

async function runSome(manager: TaskManager): Promise<void> {
  const done = await Promise.all(
    Array.from({ length: 5 }, async (_, i) => (await manager.create("echo", { value: i })).task.id),
  );
  const failed = (await manager.create("fail", { where: "run" })).task.id;
  const held = (await manager.create("echo", { value: "held" }, { paused: true })).task.id;
  for (const id of done) await untilStatus(manager, id, ["FINISHED"]);
  await untilStatus(manager, failed, ["FAILED"]);
  await manager.stop(held);
  await untilStatus(manager, held, ["STOPPED"]);
  // A restarted task that ends again is a second end, in memory as in the history.
  await manager.restart(done[0] ?? "");
  await untilStatus(manager, done[0] ?? "", ["FINISHED"]);
}

test("the ends of the last hour in memory match the history, before and after a restart of kiln", async () => {
  const dir = tempDir("kiln-ended-tally-");
  cleanups.push(dir.remove);
  const db = `${dir.path}/kiln.db`;

  const first = await managerOn(db);
  await runSome(first);
  let now = Date.now();
  const before = await first.endedCounts(60, now);
  expect(before.lastHour).toEqual({ FINISHED: 6, FAILED: 1, STOPPED: 1 });
  expect(before).toEqual(await fromHistory(db, now));
  await first.shutdown();

  // A new process: the hour so far comes from the history, the rest from what it runs.
  const second = await managerOn(db);
  cleanups.push(() => second.shutdown());
  await runSome(second);
  now = Date.now();
  const after = await second.endedCounts(60, now);
  expect(after.lastHour).toEqual({ FINISHED: 12, FAILED: 2, STOPPED: 2 });
  expect(after).toEqual(await fromHistory(db, now));
  expect(after.perMinute).toHaveLength(60);

  // Counted as it happened, in memory: deleting a task does not take its end back out, as it
  // does from the history (this is also what shows the answer came from memory).
  const [ended] = (await second.list({ status: "FINISHED", limit: 1 })).items;
  await second.delete(ended?.id ?? "");
  now = Date.now();
  expect((await second.endedCounts(60, now)).lastHour.FINISHED).toBe(12);
  expect((await fromHistory(db, now)).lastHour.FINISHED).toBe(11);
});

test("the hour moves a second at a time: an end leaves it an hour after it happened", async () => {
  const tally = new EndedTally();
  const hour = 3_600_000;
  const start = Date.UTC(2026, 11, 4, 10, 0, 0);
  // Seeded with two ends (bucket = their second): one 59 minutes ago, one 10 minutes ago.
  await tally.seed(
    {
      countEndedSince: async () => [
        { bucket: start - 59 * 60_000, status: "FINISHED", count: 2 },
        { bucket: start - 10 * 60_000, status: "FAILED", count: 1 },
      ],
    },
    start,
  );
  const transition = (at: number, to: "FINISHED" | "STOPPED" | "RUNNING") =>
    ({ type: "transition", at, to, from: "RUNNING", task: {} }) as unknown as Parameters<
      typeof tally.observe
    >[0];
  tally.observe(transition(start + 500, "STOPPED"));
  tally.observe(transition(start + 600, "RUNNING"));

  expect(tally.counts(60, start + 1_000)?.lastHour).toEqual({ FINISHED: 2, FAILED: 1, STOPPED: 1 });
  // A minute later the oldest ends are past the hour.
  expect(tally.counts(60, start + 60_000 + 1_000)?.lastHour).toEqual({ FINISHED: 0, FAILED: 1, STOPPED: 1 });
  const later = tally.counts(5, start + hour + 1_000);
  expect(later?.lastHour).toEqual({ FINISHED: 0, FAILED: 0, STOPPED: 0 });
  expect(later?.perMinute.map((minute) => minute.start)).toEqual(
    [4, 3, 2, 1, 0].map((i) => start + hour - i * 60_000),
  );
});

test("before it is seeded it answers nothing, so the history is read instead", () => {
  const tally = new EndedTally();
  expect(tally.counts(60, Date.now())).toBeUndefined();
});
