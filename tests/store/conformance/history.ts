import { describe, expect, test } from "bun:test";
import type { TaskStatus } from "../../../src/index.ts";
import {
  DEFAULT_PAGE_SIZE,
  type NewTaskLog,
  type TaskEventRecord,
  type TaskProgress,
  type TaskStore,
} from "../../../src/store/index.ts";
import type { EndedCount } from "../../../src/store/store.ts";
import {
  ALL_STATUSES,
  allEvents,
  allLogs,
  createIn,
  event,
  pastMillisecond,
  type SuiteContext,
} from "./harness.ts";

const FINAL: readonly TaskStatus[] = ["FINISHED", "FAILED", "STOPPED"];

function telemetry(
  progress: Array<[string, TaskProgress]> = [],
  checkpoints: Array<[string, unknown]> = [],
  logs: NewTaskLog[] = [],
) {
  return { progress: new Map(progress), checkpoints: new Map(checkpoints), logs };
}

const line = (taskId: string, message: string, level: NewTaskLog["level"] = "info"): NewTaskLog => ({
  taskId,
  at: Date.now(),
  level,
  message,
});

/** Moves a task round the lifecycle `rounds` times: two events a round. */
async function churn(store: TaskStore, id: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await store.transition(id, ["PENDING"], { status: "RUNNING" }, event("PENDING", "RUNNING", "start"));
    await store.transition(id, ["RUNNING"], { status: "PENDING" }, event("RUNNING", "PENDING", "requeue"));
  }
}

/** What countEndedSince should answer, worked out from the events themselves. */
function expectedBuckets(events: TaskEventRecord[], since: number, bucketMs: number): EndedCount[] {
  const counts = new Map<string, EndedCount>();
  for (const e of events) {
    if (e.at < since || !e.toStatus || !FINAL.includes(e.toStatus)) continue;
    const bucket = Math.floor(e.at / bucketMs) * bucketMs;
    const key = `${bucket} ${e.toStatus}`;
    const entry = counts.get(key) ?? { bucket, status: e.toStatus as EndedCount["status"], count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => a.bucket - b.bucket || (a.status < b.status ? -1 : 1));
}

export function historyTests({ open }: SuiteContext): void {
  describe("listEvents and listLogs", () => {
    test("listEvents pages a task's events oldest first with `after`, and only that task's", async () => {
      const { store } = await open();
      const task = await createIn(store, "PENDING");
      const other = await createIn(store, "PENDING");
      await churn(store, task.id, 30);
      await churn(store, other.id, 3);
      const events = await allEvents(store, task.id);
      expect(events).toHaveLength(61);
      expect(events.every((e) => e.taskId === task.id)).toBe(true);
      const ids = events.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(61);
      const seen: number[] = [];
      let after: number | undefined;
      for (let pages = 1; ; pages++) {
        const page = await store.listEvents(task.id, { after, limit: 8 });
        seen.push(...page.items.map((e) => e.id));
        if (page.nextCursor === null) {
          expect(pages).toBe(Math.ceil(61 / 8));
          break;
        }
        expect(page.nextCursor).toBe(page.items.at(-1)?.id ?? -1);
        after = page.nextCursor;
      }
      expect(seen).toEqual(ids);
      expect((await store.listEvents(task.id, {})).items).toHaveLength(DEFAULT_PAGE_SIZE);
      expect((await store.listEvents(task.id, { limit: 0 })).items).toHaveLength(1);
      expect((await store.listEvents(task.id, { limit: Number.NaN })).items).toHaveLength(DEFAULT_PAGE_SIZE);
      expect(await store.listEvents(task.id, { after: ids.at(-1) })).toEqual({ items: [], nextCursor: null });
      expect((await store.listEvents(task.id, { after: ids[9] })).items.map((e) => e.id)).toEqual(
        ids.slice(10, 10 + DEFAULT_PAGE_SIZE),
      );
    });

    test("listLogs pages a task's lines oldest first with `after`, with level, time and message as written", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      const other = await createIn(store, "RUNNING");
      const written = Array.from({ length: 23 }, (_, i) =>
        line(task.id, `line ${i} ✓`, i % 3 ? "info" : "error"),
      );
      await store.writeTelemetry(
        telemetry([], [], [...written.slice(0, 10), line(other.id, "other"), ...written.slice(10)]),
      );
      const logs = await allLogs(store, task.id);
      expect(logs.map(({ id: _id, ...rest }) => rest)).toEqual(written);
      const first = await store.listLogs(task.id, { limit: 10 });
      expect(first.items).toEqual(logs.slice(0, 10));
      expect(first.nextCursor).toBe(logs[9]?.id ?? -1);
      const second = await store.listLogs(task.id, { after: first.nextCursor ?? undefined, limit: 10 });
      expect(second.items).toEqual(logs.slice(10, 20));
      const third = await store.listLogs(task.id, { after: second.nextCursor ?? undefined, limit: 10 });
      expect(third).toEqual({ items: logs.slice(20), nextCursor: null });
      expect(await allLogs(store, other.id)).toHaveLength(1);
    });
  });

  describe("writeTelemetry", () => {
    test("writes progress for each task, whatever its status", async () => {
      const { store } = await open();
      const tasks = await Promise.all(ALL_STATUSES.map((status) => createIn(store, status)));
      const progress = (i: number): TaskProgress => ({
        done: i,
        total: i % 2 ? null : 10,
        message: i % 3 ? null : `step ${i}`,
      });
      await store.writeTelemetry(telemetry(tasks.map((task, i) => [task.id, progress(i)])));
      for (const [i, task] of tasks.entries())
        expect((await store.getTask(task.id))?.progress).toEqual(progress(i));
    });

    test("writes a checkpoint only while the task is PENDING, RUNNING or PAUSED", async () => {
      const { store } = await open();
      const tasks = await Promise.all(ALL_STATUSES.map((status) => createIn(store, status)));
      await store.writeTelemetry(
        telemetry(
          [],
          tasks.map((task) => [task.id, { at: task.status, deep: { list: [1, 2] } }]),
        ),
      );
      for (const task of tasks) {
        const checkpoint = (await store.getTask(task.id))?.checkpoint;
        if (FINAL.includes(task.status))
          expect({ status: task.status, checkpoint }).toEqual({ status: task.status, checkpoint: null });
        else expect(checkpoint).toEqual({ at: task.status, deep: { list: [1, 2] } });
      }
    });

    test("does not change updatedAt or write events", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      const events = await allEvents(store, task.id);
      await pastMillisecond(task.updatedAt);
      await store.writeTelemetry(
        telemetry(
          [[task.id, { done: 1, total: 2, message: null }]],
          [[task.id, { c: 1 }]],
          [line(task.id, "x")],
        ),
      );
      const after = await store.getTask(task.id);
      expect(after?.updatedAt).toBe(task.updatedAt);
      expect(await allEvents(store, task.id)).toEqual(events);
    });

    test("a line, progress or checkpoint for a deleted or unknown task is dropped, and the rest is written", async () => {
      const { store } = await open();
      const live = await createIn(store, "RUNNING");
      const gone = await createIn(store, "FINISHED");
      expect(await store.deleteTask(gone.id)).toBe(true);
      const unknown = Bun.randomUUIDv7();
      await store.writeTelemetry(
        telemetry(
          [
            [gone.id, { done: 1, total: null, message: null }],
            [live.id, { done: 2, total: null, message: null }],
            [unknown, { done: 3, total: null, message: null }],
          ],
          [
            [gone.id, { lost: true }],
            [live.id, { kept: true }],
          ],
          [line(live.id, "before"), line(gone.id, "lost"), line(unknown, "lost too"), line(live.id, "after")],
        ),
      );
      const read = await store.getTask(live.id);
      expect(read?.progress).toEqual({ done: 2, total: null, message: null });
      expect(read?.checkpoint).toEqual({ kept: true });
      expect((await allLogs(store, live.id)).map((log) => log.message)).toEqual(["before", "after"]);
      expect(await allLogs(store, gone.id)).toEqual([]);
      expect(await store.getTask(gone.id)).toBeUndefined();
      expect(await store.getTask(unknown)).toBeUndefined();
    });

    test("an empty batch resolves and writes nothing", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      await store.writeTelemetry(telemetry());
      expect(await store.getTask(task.id)).toEqual(task);
    });
  });

  describe("countEndedSince", () => {
    test("counts transitions into FINISHED, FAILED and STOPPED at or after `since`, per bucket and status", async () => {
      const { store } = await open();
      const early = await createIn(store, "RUNNING");
      await store.transition(early.id, ["RUNNING"], { status: "FAILED" }, event("RUNNING", "FAILED", "fail"));
      const since = await pastMillisecond();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const task = await createIn(store, "RUNNING");
        const to = FINAL[i % 3] ?? "FINISHED";
        await store.transition(task.id, ["RUNNING"], { status: to }, event("RUNNING", to, "finish"));
        // Restarted and ended again: each ending counts.
        if (i % 4 === 0) {
          await store.transition(task.id, FINAL, { status: "PENDING" }, event(to, "PENDING", "restart"));
          await store.transition(
            task.id,
            ["PENDING"],
            { status: "STOPPED" },
            event("PENDING", "STOPPED", "stop"),
          );
        }
        ids.push(task.id);
        if (i % 5 === 0) await Bun.sleep(3);
      }
      const events = (await Promise.all([early.id, ...ids].map((id) => allEvents(store, id)))).flat();
      for (const bucketMs of [1, 2, 7, 60_000, 86_400_000]) {
        const counted = await store.countEndedSince(since, bucketMs);
        expect({ bucketMs, counted }).toEqual({
          bucketMs,
          counted: expectedBuckets(events, since, bucketMs),
        });
        for (const entry of counted) {
          expect(typeof entry.bucket).toBe("number");
          expect(typeof entry.count).toBe("number");
        }
      }
      const total = (await store.countEndedSince(since, 86_400_000)).reduce(
        (sum, entry) => sum + entry.count,
        0,
      );
      expect(total).toBe(12 + 3);
      const withEarly = (await store.countEndedSince(since - 60_000, 86_400_000)).reduce(
        (sum, e) => sum + e.count,
        0,
      );
      expect(withEarly).toBe(16);
    });

    test("nothing since then, or no events at all, is an empty list", async () => {
      const { store } = await open();
      expect(await store.countEndedSince(0, 60_000)).toEqual([]);
      const task = await createIn(store, "RUNNING");
      await store.transition(
        task.id,
        ["RUNNING"],
        { status: "FINISHED" },
        event("RUNNING", "FINISHED", "finish"),
      );
      expect(await store.countEndedSince(Date.now() + 60_000, 60_000)).toEqual([]);
    });
  });
}
