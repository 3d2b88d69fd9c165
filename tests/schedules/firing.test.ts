// Firing against a clock the test controls, on each store: one task per fire time, the misfire
// and overlap policies, declared schedules kept in step with the code, the timer's arming.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { silentLogger, TaskManager, type TaskManagerOptions } from "../../src/index.ts";
import type { ScheduleClock } from "../../src/schedules/clock.ts";
import {
  BadDeclaredTask,
  DeclaredTask,
  DeclaredTaskLater,
  LongTask,
  TickTask,
} from "../fixtures/schedule-tasks.ts";
import { tempDir, untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreOptions } from "../stores.ts";

/** A clock that stands still until the test moves it; the timer is only recorded. */
class TestClock implements ScheduleClock {
  timers = new Set<{ at: number }>();
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  setTimer(_fn: () => void, ms: number): unknown {
    const timer = { at: this.time + ms };
    this.timers.add(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as { at: number });
  }
}

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);

for (const kind of STORE_KINDS) {
  describe(`schedules firing (${kind})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(
      clock: TestClock,
      classes = [TickTask, LongTask] as TaskManagerOptions["preloadedTasks"] & object,
      reuse?: { dir: ReturnType<typeof tempDir>; store: StoreOptions },
    ) {
      const dir = reuse?.dir ?? tempDir("kiln-schedules-");
      const store = reuse?.store ?? (await makeStoreOptions(kind));
      if (!reuse) {
        cleanups.push(async () => {
          await store.close();
          dir.remove();
        });
      }
      const manager = new TaskManager({
        ...(kind === "sqlite" ? { db: join(dir.path, "kiln.db") } : {}),
        ...store.options,
        concurrency: 2,
        logger: silentLogger,
        scheduleClock: clock,
      });
      manager.register(...classes);
      await manager.start();
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await manager.shutdown();
      };
      cleanups.push(close);
      return { manager, close, dir, store };
    }

    test("one task per fire time, however often the due schedules are fired", async () => {
      const clock = new TestClock(T0);
      const { manager } = await open(clock);
      const schedule = await manager.schedules.create({
        id: "every-10s",
        name: "tick",
        cron: "*/10 * * * * *",
        params: { n: 7 },
        tags: ["sched"],
        priority: 3,
      });
      expect(schedule.nextRunAt).toBe(T0 + 10_000);
      // Armed for the next fire time, not polling.
      expect([...clock.timers].map((timer) => timer.at)).toEqual([T0 + 10_000]);
      expect((await manager.schedules.fireDue()).flatMap((o) => o.created)).toEqual([]);
      const seen: number[] = [];
      for (let i = 1; i <= 3; i++) {
        clock.time = T0 + i * 10_000 + 5;
        const [first, second] = await Promise.all([manager.schedules.fireDue(), manager.schedules.fireDue()]);
        const created = [...(first ?? []), ...(second ?? [])].flatMap((outcome) => outcome.created);
        expect(created).toHaveLength(1);
        const task = created[0];
        expect(task?.scheduleId).toBe("every-10s");
        expect(task?.scheduleFireTime).toBe(T0 + i * 10_000);
        expect(task?.params).toEqual({ n: 7 });
        expect(task?.tags).toEqual(["sched"]);
        expect(task?.priority).toBe(3);
        seen.push(task?.scheduleFireTime as number);
      }
      expect(seen).toEqual([T0 + 10_000, T0 + 20_000, T0 + 30_000]);
      const tasks = (await manager.list({ tag: "sched" })).items;
      expect(tasks).toHaveLength(3);
      const [created] = (await manager.events(tasks[0]?.id as string)).items;
      expect(created?.reason).toBe(`fired by schedule every-10s for ${new Date(T0 + 30_000).toISOString()}`);
      const detail = await manager.schedules.detail("every-10s");
      expect(detail.schedule.lastRunAt).toBe(T0 + 30_000);
      expect(detail.schedule.lastTaskId).toBe(tasks[0]?.id as string);
      expect(detail.upcoming).toEqual([40, 50, 60, 70, 80].map((s) => T0 + s * 1_000));
      expect(detail.fires.map((fire) => fire.fireTime)).toEqual([30, 20, 10].map((s) => T0 + s * 1_000));
      await untilStatus(manager, tasks[0]?.id as string, ["FINISHED"]);
    });

    test("misfire after downtime: skip fires none, once the latest, all those within backfillMs", async () => {
      const clock = new TestClock(T0);
      const { manager } = await open(clock);
      const base = { name: "tick", everyMs: 60_000 } as const;
      await manager.schedules.create({ ...base, id: "skip", misfire: "skip" });
      await manager.schedules.create({ ...base, id: "once", misfire: "once" });
      await manager.schedules.create({ ...base, id: "all", misfire: "all", backfillMs: 150_000 });
      // Ten fire times pass while nothing fires, as when kiln is down.
      clock.time = T0 + 10 * 60_000 + 30_000;
      const outcomes = await manager.schedules.fireDue();
      const byId = new Map(outcomes.map((outcome) => [outcome.schedule?.id, outcome]));
      expect(byId.get("skip")?.created).toEqual([]);
      expect(byId.get("skip")?.missed).toBe(10);
      expect(byId.get("once")?.created.map((task) => task.scheduleFireTime)).toEqual([T0 + 600_000]);
      expect(byId.get("once")?.missed).toBe(9);
      expect(byId.get("all")?.created.map((task) => task.scheduleFireTime)).toEqual([
        T0 + 480_000,
        T0 + 540_000,
        T0 + 600_000,
      ]);
      for (const outcome of outcomes) expect(outcome.schedule?.nextRunAt).toBe(T0 + 660_000);
      // Fired already: nothing more until the next time.
      expect((await manager.schedules.fireDue()).flatMap((o) => o.created)).toEqual([]);
    });

    test("overlap skip records the skip; queue makes the task wait for the previous one", async () => {
      const clock = new TestClock(T0);
      const { manager } = await open(clock);
      await manager.schedules.create({ id: "skipper", name: "long", everyMs: 60_000, overlap: "skip" });
      await manager.schedules.create({ id: "queuer", name: "long", everyMs: 60_000, overlap: "queue" });
      clock.time = T0 + 60_000;
      const first = (await manager.schedules.fireDue()).flatMap((o) => o.created);
      expect(first).toHaveLength(2);
      for (const task of first) await untilStatus(manager, task.id, ["RUNNING"]);
      clock.time = T0 + 120_000;
      const second = await manager.schedules.fireDue();
      const skipper = second.find((o) => o.schedule?.id === "skipper");
      expect(skipper?.created).toEqual([]);
      expect(skipper?.skipped).toBe(1);
      const [skipFire] = (await manager.schedules.detail("skipper")).fires;
      expect(skipFire?.taskId).toBeNull();
      expect(skipFire?.skipReason).toContain("is still RUNNING");
      const queued = second.find((o) => o.schedule?.id === "queuer")?.created[0];
      const previous = first.find((task) => task.scheduleId === "queuer");
      expect(queued?.status).toBe("PAUSED");
      const [queueFire] = (await manager.schedules.detail("queuer")).fires;
      expect(queueFire?.waitsFor).toBe(previous?.id as string);
      // The previous one ends: the queued one is resumed and runs.
      await manager.stop(previous?.id as string);
      await untilStatus(manager, queued?.id as string, ["PENDING", "RUNNING"]);
      for (const task of [...first, queued]) await manager.stop(task?.id as string).catch(() => undefined);
    });

    test("trigger fires once now; pause stops firing and resume starts from now", async () => {
      const clock = new TestClock(T0);
      const { manager } = await open(clock);
      await manager.schedules.create({ id: "s", name: "tick", everyMs: 60_000 });
      clock.time = T0 + 1_234;
      const task = await manager.schedules.trigger("s");
      expect(task.scheduleFireTime).toBe(T0 + 1_234);
      expect((await manager.schedules.require("s")).nextRunAt).toBe(T0 + 60_000);
      await manager.schedules.pause("s");
      expect(clock.timers.size).toBe(0);
      clock.time = T0 + 300_000;
      expect((await manager.schedules.fireDue()).flatMap((o) => o.created)).toEqual([]);
      const resumed = await manager.schedules.resume("s");
      expect(resumed.nextRunAt).toBe(T0 + 360_000);
      expect([...clock.timers].map((timer) => timer.at)).toEqual([T0 + 360_000]);
      await manager.schedules.delete("s");
      expect(clock.timers.size).toBe(0);
    });

    test("a bad declaration stops the start with a message naming the task and field", async () => {
      const error = await open(new TestClock(T0), [BadDeclaredTask]).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(String(error)).toContain("bad-declared.schedules[0].cron");
      expect(String(error)).toContain("minute 61 is out of range 0-59");
    });

    test("declared schedules are registered at start and kept in step with the code; API ones stay", async () => {
      const clock = new TestClock(T0);
      const first = await open(clock, [DeclaredTask, TickTask]);
      await first.manager.schedules.create({ id: "api-made", name: "tick", everyMs: 5_000 });
      const declared = await first.manager.schedules.list();
      expect(declared.map((s) => [s.id, s.source])).toEqual([
        ["api-made", "api"],
        ["berlin-nightly", "declared"],
        ["declared:every-2000", "declared"],
      ]);
      expect(declared.find((s) => s.id === "declared:every-2000")?.params).toEqual({ n: 1 });
      await first.close();
      // A later version of the code: one schedule removed, the other's cron changed.
      clock.time = T0 + 3_600_000;
      const { manager } = await open(clock, [DeclaredTaskLater, TickTask], {
        dir: first.dir,
        store: first.store,
      });
      const later = await manager.schedules.list();
      expect(later.map((s) => [s.id, s.source])).toEqual([
        ["api-made", "api"],
        ["berlin-nightly", "declared"],
      ]);
      const nightly = later.find((s) => s.id === "berlin-nightly");
      expect(nightly?.cron).toBe("0 4 * * *");
      // 04:00 in Berlin (UTC+1 in January), recomputed from now since the timing changed.
      expect(nightly?.nextRunAt).toBe(Date.UTC(2030, 0, 1, 3, 0, 0));
      expect(nightly?.tags).toBeNull();
    });
  });
}
