import { describe, expect, test } from "bun:test";
import type { TaskStatus } from "../../../src/index.ts";
import type { TaskRecord, TaskStore } from "../../../src/store/index.ts";
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

/** A task that ran and ended in `status` now, with a log line, as the engine leaves one. */
async function ended(store: TaskStore, status: TaskStatus, name = "conformance"): Promise<TaskRecord> {
  const task = await createIn(store, "RUNNING", { taskName: name });
  await store.writeTelemetry({
    progress: new Map(),
    checkpoints: new Map(),
    logs: [{ taskId: task.id, at: Date.now(), level: "info", message: "ran" }],
  });
  const done = await store.transition(
    task.id,
    ["RUNNING"],
    { status, endTime: Date.now() },
    event("RUNNING", status, "finish"),
  );
  if (!done) throw new Error("could not end the task");
  return done;
}

export function deletionTests({ open }: SuiteContext): void {
  describe("deleteTask", () => {
    for (const status of ALL_STATUSES) {
      const final = FINAL.includes(status);
      test(`a ${status} task is ${final ? "deleted with its events and logs" : "kept: only a final task is deleted"}`, async () => {
        const { store } = await open();
        const task = await createIn(store, status);
        await store.writeTelemetry({
          progress: new Map(),
          checkpoints: new Map(),
          logs: [{ taskId: task.id, at: 1, level: "warn", message: "w" }],
        });
        const events = await allEvents(store, task.id);
        expect(await store.deleteTask(task.id)).toBe(final);
        if (final) {
          expect(await store.getTask(task.id)).toBeUndefined();
          expect(await allEvents(store, task.id)).toEqual([]);
          expect(await allLogs(store, task.id)).toEqual([]);
          expect(await store.deleteTask(task.id)).toBe(false);
        } else {
          expect(await store.getTask(task.id)).toEqual(task);
          expect(await allEvents(store, task.id)).toEqual(events);
          expect(await allLogs(store, task.id)).toHaveLength(1);
        }
      });
    }

    test("deleting one task leaves the others and their history", async () => {
      const { store } = await open();
      const a = await ended(store, "FINISHED");
      const b = await ended(store, "FINISHED");
      await store.deleteTask(a.id);
      expect(await store.getTask(b.id)).toEqual(b);
      expect(await allEvents(store, b.id)).toHaveLength(3);
      expect(await allLogs(store, b.id)).toHaveLength(1);
    });

    test("an unknown id is false", async () => {
      const { store } = await open();
      expect(await store.deleteTask(Bun.randomUUIDv7())).toBe(false);
    });
  });

  describe("deleteEndedBefore", () => {
    test("deletes only final tasks that ended before the cutoff, with their events and logs, and says which", async () => {
      const { store } = await open();
      const old = [
        await ended(store, "FINISHED", "a"),
        await ended(store, "FAILED", "b"),
        await ended(store, "STOPPED", "c"),
      ];
      // Active tasks with an end time before the cutoff (a restarted task keeps none, but the guard must hold anyway).
      const active = await Promise.all(
        (["PENDING", "RUNNING", "PAUSED"] as const).map(async (status) => {
          const task = await createIn(store, status);
          return (await store.updateTask(task.id, { endTime: Date.now() })) as TaskRecord;
        }),
      );
      // A final task with no end time.
      const noEnd = await createIn(store, "FINISHED");
      // Created before the cutoff, ended after it.
      const lateEnd = await createIn(store, "RUNNING");
      const cutoff = await pastMillisecond();
      const lateEnded = await store.transition(
        lateEnd.id,
        ["RUNNING"],
        { status: "STOPPED", endTime: Date.now() },
        event("RUNNING", "STOPPED", "stop"),
      );
      const recent = [await ended(store, "FINISHED"), await ended(store, "FAILED")];

      const deleted = await store.deleteEndedBefore(cutoff, 100);
      const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
      expect([...deleted].sort(byId)).toEqual(
        old.map((task) => ({ id: task.id, status: task.status, name: task.taskName })).sort(byId),
      );
      for (const task of old) {
        expect(await store.getTask(task.id)).toBeUndefined();
        expect(await allEvents(store, task.id)).toEqual([]);
        expect(await allLogs(store, task.id)).toEqual([]);
      }
      for (const task of [...active, noEnd, ...recent, lateEnded as TaskRecord]) {
        expect(await store.getTask(task.id)).toEqual(task);
      }
      expect(await store.deleteEndedBefore(cutoff, 100)).toEqual([]);
    });

    test("deletes at most `limit` a call, and the next calls take the rest", async () => {
      const { store } = await open();
      const tasks: TaskRecord[] = [];
      for (let i = 0; i < 7; i++) tasks.push(await ended(store, FINAL[i % 3] ?? "FINISHED", `n${i}`));
      const cutoff = await pastMillisecond();
      const first = await store.deleteEndedBefore(cutoff, 3);
      expect(first).toHaveLength(3);
      const second = await store.deleteEndedBefore(cutoff, 3);
      expect(second).toHaveLength(3);
      const third = await store.deleteEndedBefore(cutoff, 3);
      expect(third).toHaveLength(1);
      const all = [...first, ...second, ...third].map((d) => d.id).sort();
      expect(all).toEqual(tasks.map((task) => task.id).sort());
      expect(await store.countByStatus()).toEqual({
        PENDING: 0,
        RUNNING: 0,
        PAUSED: 0,
        FINISHED: 0,
        FAILED: 0,
        STOPPED: 0,
      });
    });

    test("a limit of 0 deletes nothing; an empty store deletes nothing", async () => {
      const { store } = await open();
      expect(await store.deleteEndedBefore(Date.now() + 1000, 10)).toEqual([]);
      const task = await ended(store, "FINISHED");
      const cutoff = await pastMillisecond();
      expect(await store.deleteEndedBefore(cutoff, 0)).toEqual([]);
      expect(await store.getTask(task.id)).toEqual(task);
    });
  });
}
