/**
 * The misfire policies against a clock the test sets: `now` is passed in, so "kiln was down for
 * N periods" is `now = nextRunAt + N·period + lateness`.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  ALL_FIRES_CAP,
  decideMisfire,
  MISSED_COUNT_LIMIT,
  type MisfireSpec,
  SKIP_GRACE_MS,
} from "../../src/schedules/index.ts";
import { at, iso } from "./helpers.ts";

const PERIOD = 60_000;
const ANCHOR = at("2026-05-01T00:00:00Z");
/** The first fire time not fired yet: the 10th of the schedule. */
const NEXT = ANCHOR + 10 * PERIOD;
const every = (policy: Omit<MisfireSpec, "everyMs" | "anchorMs">): MisfireSpec =>
  ({ everyMs: PERIOD, anchorMs: ANCHOR, ...policy }) as MisfireSpec;

/** Fire times of the interval schedule, as offsets in periods from NEXT. */
const periods = (fires: number[]) => fires.map((time) => (time - NEXT) / PERIOD);

describe("not due", () => {
  test("a nextRunAt still ahead fires nothing and stays", () => {
    for (const misfire of ["skip", "once", "all"] as const) {
      expect(decideMisfire(every({ misfire, backfillMs: PERIOD }), NEXT, NEXT - 1)).toEqual({
        fires: [],
        skipped: 0,
        skippedExact: true,
        nextRunAt: NEXT,
      });
    }
  });

  test("a schedule with no fire time left fires nothing", () => {
    expect(decideMisfire(every({ misfire: "once" }), null, NEXT)).toEqual({
      fires: [],
      skipped: 0,
      skippedExact: true,
      nextRunAt: null,
    });
  });
});

describe('misfire "skip"', () => {
  const spec = every({ misfire: "skip" });

  test("no downtime: the due time fires, a few ms late or exactly on time", () => {
    expect(decideMisfire(spec, NEXT, NEXT + 5)).toEqual({
      fires: [NEXT],
      skipped: 0,
      skippedExact: true,
      nextRunAt: NEXT + PERIOD,
    });
    expect(decideMisfire(spec, NEXT, NEXT).fires).toEqual([NEXT]);
  });

  test(`up to ${SKIP_GRACE_MS} ms late counts as on time, a ms more does not`, () => {
    expect(decideMisfire(spec, NEXT, NEXT + SKIP_GRACE_MS)).toMatchObject({ fires: [NEXT], skipped: 0 });
    expect(decideMisfire(spec, NEXT, NEXT + SKIP_GRACE_MS + 1)).toMatchObject({ fires: [], skipped: 1 });
    expect(decideMisfire(spec, NEXT, NEXT + 5000, { graceMs: 5000 })).toMatchObject({ fires: [NEXT] });
  });

  test("down for 1, 10 and 10,000 periods, back in the middle of a period: nothing fires", () => {
    for (const down of [1, 10, 10_000]) {
      const decision = decideMisfire(spec, NEXT, NEXT + (down + 0.5) * PERIOD);
      expect({ down, ...decision }).toEqual({
        down,
        fires: [],
        skipped: down + 1,
        skippedExact: true,
        nextRunAt: NEXT + (down + 1) * PERIOD,
      });
    }
  });

  test("back just as a fire time comes: that one fires, the missed ones do not", () => {
    const decision = decideMisfire(spec, NEXT, NEXT + 10 * PERIOD + 20);
    expect(periods(decision.fires)).toEqual([10]);
    expect(decision.skipped).toBe(10);
  });
});

describe('misfire "once"', () => {
  const spec = every({ misfire: "once" });

  test("no downtime: the due time fires", () => {
    expect(decideMisfire(spec, NEXT, NEXT + 5)).toEqual({
      fires: [NEXT],
      skipped: 0,
      skippedExact: true,
      nextRunAt: NEXT + PERIOD,
    });
  });

  test("late by more than the grace: it still fires", () => {
    expect(decideMisfire(spec, NEXT, NEXT + 30_000).fires).toEqual([NEXT]);
  });

  test("down for 1, 10 and 10,000 periods: one catch-up run, for the latest missed time", () => {
    for (const down of [1, 10, 10_000]) {
      const decision = decideMisfire(spec, NEXT, NEXT + (down + 0.5) * PERIOD);
      expect({
        down,
        fires: periods(decision.fires),
        skipped: decision.skipped,
        next: decision.nextRunAt,
      }).toEqual({
        down,
        fires: [down],
        skipped: down,
        next: NEXT + (down + 1) * PERIOD,
      });
    }
  });
});

describe('misfire "all"', () => {
  test("no downtime: the due time fires", () => {
    expect(decideMisfire(every({ misfire: "all", backfillMs: 5 * PERIOD }), NEXT, NEXT + 5)).toEqual({
      fires: [NEXT],
      skipped: 0,
      skippedExact: true,
      nextRunAt: NEXT + PERIOD,
    });
  });

  test("down for 1 and 10 periods inside the window: every missed time fires, oldest first", () => {
    const spec = every({ misfire: "all", backfillMs: 60 * PERIOD });
    expect(periods(decideMisfire(spec, NEXT, NEXT + 1.5 * PERIOD).fires)).toEqual([0, 1]);
    const ten = decideMisfire(spec, NEXT, NEXT + 10.5 * PERIOD);
    expect(periods(ten.fires)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ten.skipped).toBe(0);
    expect(ten.nextRunAt).toBe(NEXT + 11 * PERIOD);
  });

  test("only the times within backfillMs before now fire; older ones are skipped", () => {
    const spec = every({ misfire: "all", backfillMs: 5 * PERIOD });
    const decision = decideMisfire(spec, NEXT, NEXT + 10.5 * PERIOD);
    expect(periods(decision.fires)).toEqual([6, 7, 8, 9, 10]);
    expect(decision.skipped).toBe(6);
  });

  test("the window's edge is inclusive: a time exactly backfillMs old fires, one a ms older does not", () => {
    const now = NEXT + 10 * PERIOD;
    expect(
      periods(decideMisfire(every({ misfire: "all", backfillMs: 5 * PERIOD }), NEXT, now).fires),
    ).toEqual([5, 6, 7, 8, 9, 10]);
    expect(
      periods(decideMisfire(every({ misfire: "all", backfillMs: 5 * PERIOD - 1 }), NEXT, now).fires),
    ).toEqual([6, 7, 8, 9, 10]);
  });

  test("a window narrower than the grace does not drop a fire that is a few ms late", () => {
    expect(decideMisfire(every({ misfire: "all", backfillMs: 1 }), NEXT, NEXT + 50).fires).toEqual([NEXT]);
  });

  test(`down for 10,000 periods in the window: the newest ${ALL_FIRES_CAP} fire, the rest are skipped`, () => {
    const spec = every({ misfire: "all", backfillMs: 31 * 24 * 3_600_000 });
    const decision = decideMisfire(spec, NEXT, NEXT + 10_000.5 * PERIOD);
    expect(decision.fires).toHaveLength(ALL_FIRES_CAP);
    expect(periods([decision.fires[0] as number, decision.fires.at(-1) as number])).toEqual([9001, 10_000]);
    expect(
      decision.fires.every(
        (time, index) => index === 0 || time - (decision.fires[index - 1] as number) === PERIOD,
      ),
    ).toBe(true);
    expect(decision.skipped).toBe(9001);
    expect(decision.nextRunAt).toBe(NEXT + 10_001 * PERIOD);
  });
});

describe("cron schedules", () => {
  const hourly = (policy: Omit<MisfireSpec, "cron" | "timezone">): MisfireSpec =>
    ({ cron: "0 * * * *", timezone: "Europe/Berlin", ...policy }) as MisfireSpec;
  const nextRunAt = at("2026-10-24T22:00:00Z");
  // Down from 00:00 to 05:30 Berlin time on the fall-back day: 02:00 came twice, so 7 were due.
  const now = at("2026-10-25T04:30:00Z");

  test("once: the latest missed time fires; the 6 others are skipped", () => {
    const decision = decideMisfire(hourly({ misfire: "once" }), nextRunAt, now);
    expect(decision.fires.map(iso)).toEqual(["2026-10-25T04:00:00.000Z"]);
    expect(decision.skipped).toBe(6);
    expect(iso(decision.nextRunAt as number)).toBe("2026-10-25T05:00:00.000Z");
  });

  test("all: every missed time, both 02:00s included", () => {
    const decision = decideMisfire(hourly({ misfire: "all", backfillMs: 86_400_000 }), nextRunAt, now);
    expect(decision.fires.map(iso)).toEqual([
      "2026-10-24T22:00:00.000Z",
      "2026-10-24T23:00:00.000Z",
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
      "2026-10-25T03:00:00.000Z",
      "2026-10-25T04:00:00.000Z",
    ]);
    expect(decision.skipped).toBe(0);
  });

  test("a stored nextRunAt the expression does not name (it was changed) still fires as due", () => {
    const decision = decideMisfire(
      hourly({ misfire: "all", backfillMs: 86_400_000 }),
      at("2026-06-01T10:30:00Z"),
      at("2026-06-01T12:10:00Z"),
    );
    expect(decision.fires.map(iso)).toEqual([
      "2026-06-01T10:30:00.000Z",
      "2026-06-01T11:00:00.000Z",
      "2026-06-01T12:00:00.000Z",
    ]);
    const once = decideMisfire(
      hourly({ misfire: "once" }),
      at("2026-06-01T10:30:00Z"),
      at("2026-06-01T12:10:00Z"),
    );
    expect(once.fires.map(iso)).toEqual(["2026-06-01T12:00:00.000Z"]);
    expect(once.skipped).toBe(2);
  });

  test(`missed times are counted exactly up to ${MISSED_COUNT_LIMIT} after nextRunAt, then as a lower bound`, () => {
    const perSecond = { cron: "* * * * * *", timezone: "UTC", misfire: "once" } as MisfireSpec;
    const start = at("2026-01-01T00:00:00Z");
    // Skipped: start and the LIMIT seconds after it; the next second fires.
    const exact = decideMisfire(perSecond, start, start + (MISSED_COUNT_LIMIT + 1) * 1000 + 500);
    expect(exact).toMatchObject({ skipped: MISSED_COUNT_LIMIT + 1, skippedExact: true });
    expect(exact.fires).toEqual([start + (MISSED_COUNT_LIMIT + 1) * 1000]);
    // One more second missed: the count stops, and says it is a lower bound.
    const capped = decideMisfire(perSecond, start, start + (MISSED_COUNT_LIMIT + 2) * 1000 + 500);
    expect(capped).toMatchObject({ skipped: MISSED_COUNT_LIMIT + 1, skippedExact: false });
    expect(capped.fires).toEqual([start + (MISSED_COUNT_LIMIT + 2) * 1000]);
    expect(capped.nextRunAt).toBe(start + (MISSED_COUNT_LIMIT + 3) * 1000);
    const all = decideMisfire(
      { ...perSecond, misfire: "all", backfillMs: 86_400_000 },
      start,
      start + 86_400_000 + 500,
    );
    expect(all.fires).toHaveLength(ALL_FIRES_CAP);
    expect(all).toMatchObject({ skipped: MISSED_COUNT_LIMIT + 1, skippedExact: false });
  });
});

describe("a firing loop on a controlled clock, stopped across fire times", () => {
  /**
   * Ticks every `tickMs` from `from` to `to`, except while stopped, feeding each decision's
   * nextRunAt into the next one, as the firing loop will with the stored value.
   */
  function run(spec: MisfireSpec, from: number, to: number, tickMs: number, down: [number, number]) {
    let nextRunAt: number | null = from;
    const fired: number[] = [];
    let skipped = 0;
    for (let now = from; now <= to; now += tickMs) {
      if (now >= down[0] && now < down[1]) continue;
      const decision = decideMisfire(spec, nextRunAt, now);
      fired.push(...decision.fires);
      skipped += decision.skipped;
      nextRunAt = decision.nextRunAt;
    }
    return { fired, skipped };
  }

  const spec = (misfire: MisfireSpec["misfire"], backfillMs?: number) =>
    ({ cron: "*/10 * * * * *", timezone: "UTC", misfire, backfillMs }) as MisfireSpec;
  const from = at("2026-01-01T00:00:00Z");
  // Ticks at 0, 0.7, 1.4 … 120.4 s: each fire time is seen at most 0.6 s late.
  const to = from + 120_400;
  // Down from 30.5 s to 75.3 s: the fire times 40, 50, 60 and 70 s pass while stopped.
  const down: [number, number] = [from + 30_500, from + 75_300];
  const seconds = (fired: number[]) => fired.map((time) => (time - from) / 1000);

  test("each fire time fires at most once, in order, and every due time is fired or skipped", () => {
    for (const policy of [spec("skip"), spec("once"), spec("all", 26_000), spec("all", 600_000)]) {
      const { fired, skipped } = run(policy, from, to, 700, down);
      expect(new Set(fired).size).toBe(fired.length);
      expect([...fired].sort((a, b) => a - b)).toEqual(fired);
      expect(fired.length + skipped).toBe(13);
    }
  });

  test("what each policy fires", () => {
    const before = [0, 10, 20, 30];
    const after = [80, 90, 100, 110, 120];
    expect(seconds(run(spec("skip"), from, to, 700, down).fired)).toEqual([...before, ...after]);
    expect(seconds(run(spec("once"), from, to, 700, down).fired)).toEqual([...before, 70, ...after]);
    // Back at 75.6 s (the first tick after 75.3): 50, 60 and 70 s are within 26 s, 40 s is not.
    expect(seconds(run(spec("all", 26_000), from, to, 700, down).fired)).toEqual([
      ...before,
      50,
      60,
      70,
      ...after,
    ]);
    expect(seconds(run(spec("all", 600_000), from, to, 700, down).fired)).toEqual([
      ...before,
      40,
      50,
      60,
      70,
      ...after,
    ]);
  });
});

test("for any interval, nextRunAt and now: fires are due times, oldest first, and fires + skipped = due", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1000, max: 3_600_000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 20_000_000 }),
      fc.constantFrom("skip", "once", "all"),
      fc.integer({ min: 1, max: 10_000_000 }),
      (everyMs, nextIndex, sinceNext, misfire, backfillMs) => {
        const spec = { everyMs, anchorMs: ANCHOR, misfire, backfillMs } as MisfireSpec;
        const nextRunAt = ANCHOR + nextIndex * everyMs;
        const now = nextRunAt + sinceNext;
        const due = Math.floor(sinceNext / everyMs) + 1;
        const decision = decideMisfire(spec, nextRunAt, now);
        expect(decision.fires.length + decision.skipped).toBe(due);
        expect(decision.skippedExact).toBe(true);
        expect(decision.fires.length).toBeLessThanOrEqual(misfire === "all" ? ALL_FIRES_CAP : 1);
        for (const [index, time] of decision.fires.entries()) {
          expect((time - ANCHOR) % everyMs).toBe(0);
          expect(time >= nextRunAt && time <= now).toBe(true);
          if (index > 0) expect(time).toBeGreaterThan(decision.fires[index - 1] as number);
        }
        if (misfire === "once") expect(decision.fires).toEqual([nextRunAt + (due - 1) * everyMs]);
        expect(decision.nextRunAt).toBe(nextRunAt + due * everyMs);
      },
    ),
    { numRuns: 500 },
  );
});
