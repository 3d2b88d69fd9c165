// /metrics' per-schedule counters (fires, overlap skips, misfires) against a clock the test sets,
// read over real HTTP from a manager whose schedules fire when the test says.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createKilnApp } from "../../src/http/index.ts";
import { silentLogger, TaskManager } from "../../src/index.ts";
import type { ScheduleClock } from "../../src/schedules/clock.ts";
import { LongTask, TickTask } from "../fixtures/schedule-tasks.ts";
import { tempDir } from "../helpers.ts";

/** A clock that stands still until the test moves it; timers never go off by themselves. */
class TestClock implements ScheduleClock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  setTimer(): unknown {
    return {};
  }
  clearTimer(): void {}
}

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(clock: TestClock) {
  const dir = tempDir("kiln-schedule-metrics-");
  cleanups.push(dir.remove);
  const manager = new TaskManager({
    db: join(dir.path, "kiln.db"),
    concurrency: 2,
    logger: silentLogger,
    scheduleClock: clock,
    shutdownGraceMs: 500,
  });
  manager.register(TickTask, LongTask);
  await manager.start();
  cleanups.push(() => manager.shutdown());
  const app = createKilnApp(manager).listen({ hostname: "127.0.0.1", port: 0 });
  cleanups.push(async () => {
    await app.stop(true);
  });
  const metrics = async () => {
    const response = await fetch(`http://127.0.0.1:${app.server?.port}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };
  return { manager, metrics };
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const fires = (id: string, name = "tick") => `kiln_schedule_fires_total{schedule="${id}",name="${name}"}`;
const skips = (id: string, name = "tick") => `kiln_schedule_skips_total{schedule="${id}",name="${name}"}`;
const misfires = (id: string, outcome: "dropped" | "caught_up") =>
  `kiln_schedule_misfires_total{schedule="${id}",name="tick",outcome="${outcome}"}`;

test("fires, dropped and caught-up misfires per schedule after downtime, then on time", async () => {
  const clock = new TestClock(T0);
  const { manager, metrics } = await open(clock);
  const base = { name: "tick", everyMs: 60_000 } as const;
  await manager.schedules.create({ ...base, id: "skip", misfire: "skip" });
  await manager.schedules.create({ ...base, id: "once", misfire: "once" });
  await manager.schedules.create({ ...base, id: "all", misfire: "all", backfillMs: 150_000 });

  // Every schedule has its series from the start, at zero.
  let text = await metrics();
  for (const type of [
    "kiln_schedule_fires_total",
    "kiln_schedule_skips_total",
    "kiln_schedule_misfires_total",
  ]) {
    expect(text).toContain(`# TYPE ${type} counter`);
  }
  for (const id of ["skip", "once", "all"]) {
    expect(value(text, fires(id))).toBe(0);
    expect(value(text, skips(id))).toBe(0);
    expect(value(text, misfires(id, "dropped"))).toBe(0);
    expect(value(text, misfires(id, "caught_up"))).toBe(0);
  }

  // Ten fire times pass while nothing fires, as when kiln is down.
  clock.time = T0 + 10 * 60_000 + 30_000;
  await manager.schedules.fireDue();
  text = await metrics();
  expect([value(text, fires("skip")), value(text, misfires("skip", "dropped"))]).toEqual([0, 10]);
  expect(value(text, misfires("skip", "caught_up"))).toBe(0);
  expect([value(text, fires("once")), value(text, misfires("once", "dropped"))]).toEqual([1, 9]);
  expect(value(text, misfires("once", "caught_up"))).toBe(1);
  expect([value(text, fires("all")), value(text, misfires("all", "dropped"))]).toEqual([3, 7]);
  expect(value(text, misfires("all", "caught_up"))).toBe(3);

  // The next fire time, a few ms late: a fire for each, no misfire.
  clock.time = T0 + 11 * 60_000 + 5;
  await manager.schedules.fireDue();
  text = await metrics();
  expect([1, 2, 4]).toEqual(["skip", "once", "all"].map((id) => value(text, fires(id)) as number));
  expect(value(text, misfires("once", "caught_up"))).toBe(1);
  expect(value(text, misfires("all", "dropped"))).toBe(7);

  // A trigger is a fire; a deleted schedule's series go.
  await manager.schedules.trigger("skip");
  await manager.schedules.delete("all");
  text = await metrics();
  expect(value(text, fires("skip"))).toBe(2);
  expect(text).not.toContain('schedule="all"');
  // Made again under the same id, it starts from zero.
  await manager.schedules.create({ ...base, id: "all" });
  text = await metrics();
  expect(value(text, fires("all"))).toBe(0);
  expect(value(text, misfires("all", "dropped"))).toBe(0);
  for (const line of text.trim().split("\n")) {
    if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/);
  }
});

test("overlap skip: a fire time while the previous task is live counts as a skip", async () => {
  const clock = new TestClock(T0);
  const { manager, metrics } = await open(clock);
  await manager.schedules.create({ id: "skipper", name: "long", everyMs: 60_000, overlap: "skip" });
  clock.time = T0 + 60_000;
  await manager.schedules.fireDue();
  clock.time = T0 + 120_000;
  await manager.schedules.fireDue();
  const text = await metrics();
  expect(value(text, fires("skipper", "long"))).toBe(1);
  expect(value(text, skips("skipper", "long"))).toBe(1);
  const [first] = (await manager.list({ name: "long" })).items;
  if (first) await manager.stop(first.id);
});
