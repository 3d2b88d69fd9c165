import { describe, expect, test } from "bun:test";
import {
  allEvents,
  createEvent,
  createIn,
  newSchedule,
  newTask,
  rejection,
  type SuiteContext,
} from "./harness.ts";

class Planned extends Error {}

export function scheduleTests({ open }: SuiteContext): void {
  describe("schedules", () => {
    test("createSchedule returns the whole record, and getSchedule and listSchedules read the same", async () => {
      const { store } = await open();
      const before = Date.now();
      const schedule = newSchedule();
      const created = await store.createSchedule(schedule);
      expect(created).toEqual({
        ...schedule,
        lastRunAt: null,
        lastTaskId: null,
        updatedAt: created.updatedAt,
      });
      expect(created.updatedAt).toBeGreaterThanOrEqual(before);
      expect(await store.getSchedule(schedule.id)).toEqual(created);
      const interval = await store.createSchedule(
        newSchedule({
          id: "z-interval",
          cron: null,
          everyMs: 2_000,
          timezone: null,
          params: undefined,
          tags: null,
          misfire: "once",
          backfillMs: null,
          overlap: "allow",
          paused: true,
          source: "declared",
        }),
      );
      expect(interval.paused).toBe(true);
      expect(interval.params).toBeUndefined();
      expect(interval.everyMs).toBe(2_000);
      expect((await store.listSchedules()).map((s) => s.id)).toEqual([schedule.id, "z-interval"]);
      expect(await store.getSchedule("absent")).toBeUndefined();
    });

    test("a duplicate id, both or neither of cron and everyMs, and an unknown policy are refused", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      expect(await rejection(store.createSchedule(newSchedule({ id: schedule.id })))).toBeInstanceOf(Error);
      expect(await rejection(store.createSchedule(newSchedule({ everyMs: 5_000 })))).toBeInstanceOf(Error);
      expect(await rejection(store.createSchedule(newSchedule({ cron: null })))).toBeInstanceOf(Error);
      const bad = newSchedule({ misfire: "sometimes" as never });
      expect(await rejection(store.createSchedule(bad))).toBeInstanceOf(Error);
      expect((await store.listSchedules()).map((s) => [s.cron, s.everyMs, s.misfire])).toEqual([
        ["*/5 * * * *", null, "all"],
      ]);
    });

    test("updateSchedule changes the columns given and leaves the rest; undefined for none", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      const updated = await store.updateSchedule(schedule.id, {
        paused: true,
        nextRunAt: null,
        lastRunAt: 1_800_000_000_000,
        lastTaskId: "task-1",
        tags: null,
      });
      expect(updated).toEqual({
        ...schedule,
        paused: true,
        nextRunAt: null,
        lastRunAt: 1_800_000_000_000,
        lastTaskId: "task-1",
        tags: null,
        updatedAt: updated?.updatedAt as number,
      });
      const timing = await store.updateSchedule(schedule.id, {
        cron: null,
        everyMs: 10_000,
        timezone: null,
      });
      expect([timing?.cron, timing?.everyMs, timing?.timezone]).toEqual([null, 10_000, null]);
      expect(await store.updateSchedule("absent", { paused: false })).toBeUndefined();
    });

    test("recordScheduleFire records a (schedule, fire time) once: a second try writes nothing", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      const fire = {
        scheduleId: schedule.id,
        fireTime: 1_800_000_000_000,
        taskId: "task-1",
        skipReason: null,
        waitsFor: null,
        recordedAt: 1_800_000_000_005,
      };
      expect(await store.recordScheduleFire(fire)).toBe(true);
      expect(await store.recordScheduleFire({ ...fire, taskId: "task-2" })).toBe(false);
      expect(
        await store.recordScheduleFire({
          ...fire,
          fireTime: 1_800_000_300_000,
          taskId: null,
          skipReason: "overlap",
        }),
      ).toBe(true);
      const fires = await store.listScheduleFires(schedule.id, 10);
      expect(fires.map(({ id: _id, ...rest }) => rest)).toEqual([
        { ...fire, fireTime: 1_800_000_300_000, taskId: null, skipReason: "overlap" },
        fire,
      ]);
      expect(await store.listScheduleFires(schedule.id, 1)).toHaveLength(1);
    });

    test("inside a transaction a conflicting fire leaves the transaction usable, and a rollback undoes the fire", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      const fire = {
        scheduleId: schedule.id,
        fireTime: 1_800_000_000_000,
        taskId: "task-1",
        skipReason: null,
        waitsFor: null,
        recordedAt: 1,
      };
      await store.recordScheduleFire(fire);
      const task = newTask({ scheduleId: schedule.id, scheduleFireTime: 1_800_000_300_000 });
      await store.transaction(async (tx) => {
        // The conflict is not an error: the same transaction goes on (on PostgreSQL a failed
        // statement would have spoilt it).
        expect(await tx.recordScheduleFire(fire)).toBe(false);
        expect(await tx.getSchedule(schedule.id, { lock: true })).toEqual(schedule);
        expect(await tx.recordScheduleFire({ ...fire, fireTime: 1_800_000_300_000, taskId: task.id })).toBe(
          true,
        );
        await tx.createTask(task, createEvent());
        await tx.updateSchedule(schedule.id, { lastTaskId: task.id, nextRunAt: 1_800_000_600_000 });
      });
      expect((await store.getTask(task.id))?.scheduleFireTime).toBe(1_800_000_300_000);
      expect((await store.getTask(task.id))?.scheduleId).toBe(schedule.id);
      expect(await allEvents(store, task.id)).toHaveLength(1);
      expect((await store.getSchedule(schedule.id))?.lastTaskId).toBe(task.id);

      const error = await rejection(
        store.transaction(async (tx) => {
          expect(await tx.recordScheduleFire({ ...fire, fireTime: 1_800_000_600_000 })).toBe(true);
          await tx.updateSchedule(schedule.id, { nextRunAt: 1_800_000_900_000 });
          throw new Planned("undo");
        }),
      );
      expect(error).toBeInstanceOf(Planned);
      expect(await store.listScheduleFires(schedule.id, 10)).toHaveLength(2);
      expect((await store.getSchedule(schedule.id))?.nextRunAt).toBe(1_800_000_600_000);
    });

    test("listQueuedFires lists the fires whose task is still PAUSED waiting for another", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      const first = await createIn(store, "RUNNING");
      const waiting = await createIn(store, "PAUSED");
      const resumed = await createIn(store, "PENDING");
      const base = { scheduleId: schedule.id, skipReason: null, recordedAt: 1 };
      await store.recordScheduleFire({ ...base, fireTime: 1, taskId: first.id, waitsFor: null });
      await store.recordScheduleFire({ ...base, fireTime: 2, taskId: waiting.id, waitsFor: first.id });
      await store.recordScheduleFire({ ...base, fireTime: 3, taskId: resumed.id, waitsFor: waiting.id });
      const queued = await store.listQueuedFires();
      expect(queued.map((fire) => [fire.taskId, fire.waitsFor])).toEqual([[waiting.id, first.id]]);
    });

    test("deleteSchedule removes it with its fires; false when absent; tasks it made stay", async () => {
      const { store } = await open();
      const schedule = await store.createSchedule(newSchedule());
      const task = await createIn(store, "FINISHED", { scheduleId: schedule.id, scheduleFireTime: 5 });
      await store.recordScheduleFire({
        scheduleId: schedule.id,
        fireTime: 5,
        taskId: task.id,
        skipReason: null,
        waitsFor: null,
        recordedAt: 1,
      });
      expect(await store.deleteSchedule(schedule.id)).toBe(true);
      expect(await store.deleteSchedule(schedule.id)).toBe(false);
      expect(await store.getSchedule(schedule.id)).toBeUndefined();
      expect(await store.listScheduleFires(schedule.id, 10)).toEqual([]);
      expect((await store.getTask(task.id))?.scheduleId).toBe(schedule.id);
      // The same id can be made again, with a history of its own.
      await store.createSchedule(newSchedule({ id: schedule.id }));
      expect(
        await store.recordScheduleFire({
          scheduleId: schedule.id,
          fireTime: 5,
          taskId: "again",
          skipReason: null,
          waitsFor: null,
          recordedAt: 2,
        }),
      ).toBe(true);
    });
  });
}
