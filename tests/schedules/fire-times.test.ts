import { describe, expect, test } from "bun:test";
import { LATEST_DATE_MS } from "../../src/engine/creation/create-options.ts";
import {
  countFireTimes,
  type FireTimeSpec,
  latestFireTimeAtOrBefore,
  nextFireTime,
  nextFireTimes,
} from "../../src/schedules/index.ts";
import { at, iso } from "./helpers.ts";

function next(spec: FireTimeSpec, after: string, count: number): string[] {
  return nextFireTimes(spec, at(after), count).map(iso);
}

describe("cron without seconds", () => {
  test("daily at 03:00 UTC; after is strict, so a fire time gives the one after it", () => {
    const spec = { cron: "0 3 * * *" };
    expect(next(spec, "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-01T03:00:00.000Z",
      "2026-01-02T03:00:00.000Z",
      "2026-01-03T03:00:00.000Z",
    ]);
    expect(iso(nextFireTime(spec, at("2026-01-01T03:00:00Z")) as number)).toBe("2026-01-02T03:00:00.000Z");
    expect(iso(nextFireTime(spec, at("2026-01-01T02:59:59.999Z")) as number)).toBe(
      "2026-01-01T03:00:00.000Z",
    );
  });

  test("no time zone is UTC, whatever the host's zone", () => {
    expect(nextFireTime({ cron: "0 3 * * *" }, at("2026-07-01T00:00:00Z"))).toBe(at("2026-07-01T03:00:00Z"));
    expect(nextFireTime({ cron: "0 3 * * *", timezone: null }, at("2026-07-01T00:00:00Z"))).toBe(
      at("2026-07-01T03:00:00Z"),
    );
  });

  test("every weekday at 09:00", () => {
    // 2026-01-02 is a Friday.
    expect(next({ cron: "0 9 * * MON-FRI" }, "2026-01-02T10:00:00Z", 5)).toEqual([
      "2026-01-05T09:00:00.000Z",
      "2026-01-06T09:00:00.000Z",
      "2026-01-07T09:00:00.000Z",
      "2026-01-08T09:00:00.000Z",
      "2026-01-09T09:00:00.000Z",
    ]);
  });

  test("the 31st skips the months without one; L is the last day of each month", () => {
    expect(next({ cron: "0 0 31 * *" }, "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-31T00:00:00.000Z",
      "2026-03-31T00:00:00.000Z",
      "2026-05-31T00:00:00.000Z",
    ]);
    expect(next({ cron: "0 0 L * *" }, "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-31T00:00:00.000Z",
      "2026-02-28T00:00:00.000Z",
      "2026-03-31T00:00:00.000Z",
    ]);
  });

  test("day-of-month OR day-of-week, as in Vixie cron; + asks for both", () => {
    // 2026-01-01 is a Thursday, 2026-02-01 a Sunday.
    expect(next({ cron: "0 12 1 * MON" }, "2025-12-31T00:00:00Z", 7)).toEqual([
      "2026-01-01T12:00:00.000Z",
      "2026-01-05T12:00:00.000Z",
      "2026-01-12T12:00:00.000Z",
      "2026-01-19T12:00:00.000Z",
      "2026-01-26T12:00:00.000Z",
      "2026-02-01T12:00:00.000Z",
      "2026-02-02T12:00:00.000Z",
    ]);
    // The first 1st of a month that is a Monday: June 2026, then February 2027.
    expect(next({ cron: "0 12 1 * +MON" }, "2025-12-31T00:00:00Z", 2)).toEqual([
      "2026-06-01T12:00:00.000Z",
      "2027-02-01T12:00:00.000Z",
    ]);
  });

  test("the second Friday of the month", () => {
    expect(next({ cron: "0 9 * * 5#2" }, "2026-01-01T00:00:00Z", 2)).toEqual([
      "2026-01-09T09:00:00.000Z",
      "2026-02-13T09:00:00.000Z",
    ]);
  });
});

describe("cron with seconds", () => {
  test("every 15 seconds, from a time between two", () => {
    expect(next({ cron: "*/15 * * * * *" }, "2026-01-01T10:00:00.500Z", 4)).toEqual([
      "2026-01-01T10:00:15.000Z",
      "2026-01-01T10:00:30.000Z",
      "2026-01-01T10:00:45.000Z",
      "2026-01-01T10:01:00.000Z",
    ]);
  });

  test("at second 30 of minute 5 of each hour", () => {
    expect(next({ cron: "30 5 * * * *" }, "2026-01-01T10:05:30Z", 2)).toEqual([
      "2026-01-01T11:05:30.000Z",
      "2026-01-01T12:05:30.000Z",
    ]);
  });
});

describe("time zones", () => {
  const daily = (timezone: string) => ({ cron: "0 3 * * *", timezone });

  test.each([
    ["UTC", "2026-01-15T03:00:00.000Z", "2026-07-15T03:00:00.000Z"],
    ["Europe/Berlin", "2026-01-15T02:00:00.000Z", "2026-07-15T01:00:00.000Z"],
    ["America/New_York", "2026-01-15T08:00:00.000Z", "2026-07-15T07:00:00.000Z"],
    // +05:30 all year, so 03:00 there is 21:30 UTC the day before.
    ["Asia/Kolkata", "2026-01-15T21:30:00.000Z", "2026-07-15T21:30:00.000Z"],
  ])("03:00 in %s is %s in winter and %s in summer", (timezone, winter, summer) => {
    expect(iso(nextFireTime(daily(timezone), at("2026-01-14T22:00:00Z")) as number)).toBe(winter);
    expect(iso(nextFireTime(daily(timezone), at("2026-07-14T22:00:00Z")) as number)).toBe(summer);
  });
});

describe("everyMs, anchored at the schedule's creation", () => {
  const anchorMs = at("2026-01-01T00:00:00.123Z");
  const spec = { everyMs: 60_000, anchorMs };

  test("fire times are anchor + k·everyMs for k ≥ 1", () => {
    expect(nextFireTimes(spec, anchorMs, 3)).toEqual([
      anchorMs + 60_000,
      anchorMs + 120_000,
      anchorMs + 180_000,
    ]);
    expect(nextFireTime(spec, anchorMs - 10_000_000)).toBe(anchorMs + 60_000);
    expect(nextFireTime(spec, anchorMs + 150_000)).toBe(anchorMs + 180_000);
    expect(nextFireTime(spec, anchorMs + 120_000)).toBe(anchorMs + 180_000);
  });

  test("a restart with the same anchor computes the same times; another anchor would shift them", () => {
    const beforeStop = nextFireTimes(spec, anchorMs, 10);
    // kiln stops after the 4th fire and starts again 3.5 periods later, at an arbitrary ms.
    const restartedAt = anchorMs + 7.5 * 60_000 + 17;
    const afterRestart = nextFireTimes({ everyMs: 60_000, anchorMs }, restartedAt, 2);
    expect(afterRestart).toEqual(beforeStop.slice(7, 9));
    expect(nextFireTimes({ everyMs: 60_000, anchorMs: restartedAt }, restartedAt, 2)).not.toEqual(
      beforeStop.slice(7, 9),
    );
  });

  test("no fire time past the end of year 9999", () => {
    const late = { everyMs: 86_400_000, anchorMs: LATEST_DATE_MS - 86_400_000 * 1.5 };
    expect(nextFireTimes(late, late.anchorMs, 5)).toEqual([late.anchorMs + 86_400_000]);
    expect(nextFireTime({ cron: "0 0 1 1 *" }, at("9999-06-01T00:00:00Z"))).toBeNull();
  });
});

describe("the latest fire time at or before an instant", () => {
  test("cron: an exact fire time is included", () => {
    const spec = { cron: "0 * * * *" };
    expect(iso(latestFireTimeAtOrBefore(spec, at("2026-01-01T10:00:00Z")) as number)).toBe(
      "2026-01-01T10:00:00.000Z",
    );
    expect(iso(latestFireTimeAtOrBefore(spec, at("2026-01-01T09:59:59.999Z")) as number)).toBe(
      "2026-01-01T09:00:00.000Z",
    );
  });

  test("interval: none before the first fire", () => {
    const spec = { everyMs: 1000, anchorMs: 50_000 };
    expect(latestFireTimeAtOrBefore(spec, 50_999)).toBeNull();
    expect(latestFireTimeAtOrBefore(spec, 51_000)).toBe(51_000);
    expect(latestFireTimeAtOrBefore(spec, 53_500)).toBe(53_000);
  });
});

describe("counting fire times in (after, through]", () => {
  test("interval: exact by arithmetic, however many", () => {
    const spec = { everyMs: 1000, anchorMs: 0 };
    expect(countFireTimes(spec, 1000, 5000, 10)).toEqual({ count: 4, exact: true });
    expect(countFireTimes(spec, 999, 5000, 10)).toEqual({ count: 5, exact: true });
    expect(countFireTimes(spec, 0, 10_000_000_000, 10)).toEqual({ count: 10_000_000, exact: true });
    expect(countFireTimes(spec, 5000, 5000, 10)).toEqual({ count: 0, exact: true });
  });

  test("cron: one by one, stopping at the limit", () => {
    const spec = { cron: "* * * * *" };
    expect(countFireTimes(spec, at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 100)).toEqual({
      count: 60,
      exact: true,
    });
    expect(countFireTimes(spec, at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 60)).toEqual({
      count: 60,
      exact: true,
    });
    expect(countFireTimes(spec, at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 59)).toEqual({
      count: 59,
      exact: false,
    });
  });
});

test("a time that is not a finite number is refused", () => {
  expect(() => nextFireTime({ cron: "* * * * *" }, Number.NaN)).toThrow(RangeError);
  expect(() => latestFireTimeAtOrBefore({ everyMs: 1000, anchorMs: 0 }, Number.POSITIVE_INFINITY)).toThrow(
    RangeError,
  );
});
