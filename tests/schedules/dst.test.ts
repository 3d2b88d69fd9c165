/**
 * Fire times across daylight saving time changes, as croner 11 documents them (see
 * src/schedules/cron-expression.ts): a fixed-time job whose time falls in the spring-forward gap
 * runs at the first valid time after the gap, and once when its time happens twice at fall-back;
 * an interval job skips the gap and runs both passes of a repeated hour.
 *
 * Europe/Berlin in 2026: on 29 March 02:00 CET jumps to 03:00 CEST (at 01:00 UTC); on 25 October
 * 03:00 CEST goes back to 02:00 CET (at 01:00 UTC), so 02:00-02:59 happens twice.
 */
import { describe, expect, test } from "bun:test";
import {
  type FireTimeSpec,
  latestFireTimeAtOrBefore,
  nextFireTime,
  nextFireTimes,
} from "../../src/schedules/index.ts";
import { at, iso, wallClock } from "./helpers.ts";

const BERLIN = "Europe/Berlin";

/** The fire times from `from` through `to`, walking forward. */
function firesBetween(spec: FireTimeSpec, from: number, to: number): number[] {
  const fires: number[] = [];
  for (let time = nextFireTime(spec, from); time !== null && time <= to; time = nextFireTime(spec, time)) {
    fires.push(time);
  }
  return fires;
}

/** The fire times whose wall-clock date in the spec's zone is `date` (YYYY-MM-DD). */
function firesOnLocalDate(spec: FireTimeSpec & { timezone: string }, date: string): number[] {
  const midnightUtc = at(`${date}T00:00:00Z`);
  const fires = firesBetween(spec, midnightUtc - 86_400_000, midnightUtc + 2 * 86_400_000);
  return fires.filter((time) => wallClock(time, spec.timezone).startsWith(date));
}

describe("a daily 02:30 in Europe/Berlin", () => {
  const spec = { cron: "30 2 * * *", timezone: BERLIN };

  test("spring forward: 02:30 does not exist on 29 March, so it runs at 03:00 CEST, once", () => {
    const fires = nextFireTimes(spec, at("2026-03-27T12:00:00Z"), 3);
    expect(fires.map(iso)).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
    expect(fires.map((time) => wallClock(time, BERLIN))).toEqual([
      "2026-03-28 02:30:00",
      "2026-03-29 03:00:00",
      "2026-03-30 02:30:00",
    ]);
    expect(firesOnLocalDate(spec, "2026-03-29")).toHaveLength(1);
  });

  test("fall back: 02:30 happens twice on 25 October and fires once, at the first (CEST)", () => {
    const fires = nextFireTimes(spec, at("2026-10-23T12:00:00Z"), 3);
    expect(fires.map(iso)).toEqual([
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
    expect(firesOnLocalDate(spec, "2026-10-25").map(iso)).toEqual(["2026-10-25T00:30:00.000Z"]);
  });

  test("fall back: asked from between the two 02:30s (a restart then), the second one does not fire", () => {
    // 01:15 UTC is 02:15 CET, in the second pass through 02:00-02:59.
    expect(nextFireTimes(spec, at("2026-10-25T01:15:00Z"), 1).map(iso)).toEqual(["2026-10-26T01:30:00.000Z"]);
  });
});

describe("an hourly schedule in Europe/Berlin", () => {
  const spec = { cron: "0 * * * *", timezone: BERLIN };

  test("23 fires on the 23-hour day: 02:00 does not exist and is skipped", () => {
    const fires = firesOnLocalDate(spec, "2026-03-29");
    expect(fires).toHaveLength(23);
    expect(fires.slice(0, 4).map((time) => wallClock(time, BERLIN))).toEqual([
      "2026-03-29 00:00:00",
      "2026-03-29 01:00:00",
      "2026-03-29 03:00:00",
      "2026-03-29 04:00:00",
    ]);
  });

  test("25 fires on the 25-hour day: 02:00 runs in both passes, an hour apart", () => {
    const fires = firesOnLocalDate(spec, "2026-10-25");
    expect(fires).toHaveLength(25);
    expect(fires.slice(2, 5).map(iso)).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
    expect(fires.slice(2, 5).map((time) => wallClock(time, BERLIN))).toEqual([
      "2026-10-25 02:00:00",
      "2026-10-25 02:00:00",
      "2026-10-25 03:00:00",
    ]);
  });

  test("24 on the days around them, and in a zone without DST", () => {
    for (const date of ["2026-03-28", "2026-03-30", "2026-10-24", "2026-10-26"]) {
      expect({ date, fires: firesOnLocalDate(spec, date).length }).toEqual({ date, fires: 24 });
    }
    const kolkata = { cron: "0 * * * *", timezone: "Asia/Kolkata" };
    expect(firesOnLocalDate(kolkata, "2026-03-29")).toHaveLength(24);
    expect(firesOnLocalDate(kolkata, "2026-10-25")).toHaveLength(24);
  });

  test("every 30 minutes: 46 fires on the short day, 50 on the long one", () => {
    const halfHourly = { cron: "*/30 * * * *", timezone: BERLIN };
    expect(firesOnLocalDate(halfHourly, "2026-03-29")).toHaveLength(46);
    expect(firesOnLocalDate(halfHourly, "2026-10-25")).toHaveLength(50);
  });
});

test('a list of fixed times ("0 2,14 * * *") fires twice on both change days (fixedTimeRule "no-wildcard")', () => {
  const spec = { cron: "0 2,14 * * *", timezone: BERLIN };
  expect(firesOnLocalDate(spec, "2026-03-29").map((time) => wallClock(time, BERLIN))).toEqual([
    "2026-03-29 03:00:00",
    "2026-03-29 14:00:00",
  ]);
  expect(firesOnLocalDate(spec, "2026-10-25").map(iso)).toEqual([
    "2026-10-25T00:00:00.000Z",
    "2026-10-25T13:00:00.000Z",
  ]);
});

describe("America/New_York (2026: 8 March forward, 1 November back)", () => {
  test("02:30 on 8 March runs at 03:00 EDT", () => {
    const fires = firesOnLocalDate({ cron: "30 2 * * *", timezone: "America/New_York" }, "2026-03-08");
    expect(fires.map((time) => wallClock(time, "America/New_York"))).toEqual(["2026-03-08 03:00:00"]);
    expect(fires.map(iso)).toEqual(["2026-03-08T07:00:00.000Z"]);
  });

  test("01:30 on 1 November happens twice and fires once, at 01:30 EDT", () => {
    const fires = firesOnLocalDate({ cron: "30 1 * * *", timezone: "America/New_York" }, "2026-11-01");
    expect(fires.map(iso)).toEqual(["2026-11-01T05:30:00.000Z"]);
  });
});

describe("walking back gives the same fire times as walking forward (misfire relies on it)", () => {
  test.each([
    ["30 2 * * *", "2026-03-26T00:00:00Z", "2026-04-01T00:00:00Z"],
    ["30 2 * * *", "2026-10-22T00:00:00Z", "2026-10-28T00:00:00Z"],
    ["0 * * * *", "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z"],
    ["0 * * * *", "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z"],
    ["*/30 * * * *", "2026-10-24T20:00:00Z", "2026-10-25T06:00:00Z"],
    ["0 2,14 * * *", "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z"],
    ["0 2,14 * * *", "2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z"],
  ])("%s from %s to %s", (cron, from, to) => {
    const spec = { cron, timezone: BERLIN };
    const forward = firesBetween(spec, at(from), at(to));
    const backward: number[] = [];
    for (
      let time = latestFireTimeAtOrBefore(spec, at(to));
      time !== null && time > at(from);
      time = latestFireTimeAtOrBefore(spec, time - 1)
    ) {
      backward.push(time);
    }
    expect(backward.reverse().map(iso)).toEqual(forward.map(iso));
  });
});
