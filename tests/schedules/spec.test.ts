import { describe, expect, test } from "bun:test";
import { checkScheduleSpec, MAX_BACKFILL_MS, type ScheduleSpecInput } from "../../src/schedules/index.ts";

function errorsOf(input: unknown): { field: string; message: string }[] {
  const checked = checkScheduleSpec(input as ScheduleSpecInput);
  if (checked.ok) throw new Error(`expected errors, got ${JSON.stringify(checked.spec)}`);
  return checked.errors;
}

function specOf(input: ScheduleSpecInput) {
  const checked = checkScheduleSpec(input);
  if (!checked.ok) throw new Error(`expected a spec, got ${JSON.stringify(checked.errors)}`);
  return checked.spec;
}

describe("cron or everyMs", () => {
  test("a cron schedule gets UTC, misfire once, overlap allow and no backfill", () => {
    expect(specOf({ cron: "0 3 * * *" })).toEqual({
      cron: "0 3 * * *",
      timezone: "UTC",
      misfire: "once",
      backfillMs: null,
      overlap: "allow",
    });
  });

  test("an interval schedule has no time zone", () => {
    expect(specOf({ everyMs: 60_000 })).toEqual({
      everyMs: 60_000,
      misfire: "once",
      backfillMs: null,
      overlap: "allow",
    });
  });

  test("neither is an error on cron", () => {
    expect(errorsOf({})).toEqual([
      {
        field: "cron",
        message: "one of cron (a cron expression) or everyMs (an interval in ms) is required",
      },
    ]);
  });

  test("both is an error", () => {
    expect(errorsOf({ cron: "* * * * *", everyMs: 5000 })).toEqual([
      { field: "cron", message: "give either cron or everyMs, not both" },
    ]);
  });
});

describe("cron", () => {
  test("5 and 6 fields are accepted, and whitespace is normalized", () => {
    expect(specOf({ cron: "  */5   * * * * " }).cron).toBe("*/5 * * * *");
    expect(specOf({ cron: "*/10 * * * * *" }).cron).toBe("*/10 * * * * *");
    expect(specOf({ cron: "0 0 12 * * MON-FRI" }).cron).toBe("0 0 12 * * MON-FRI");
    expect(specOf({ cron: "0 12 1 * +MON" }).cron).toBe("0 12 1 * +MON");
    expect(specOf({ cron: "0 0 L * *" }).cron).toBe("0 0 L * *");
    expect(specOf({ cron: "0 9 * * 5#2" }).cron).toBe("0 9 * * 5#2");
    expect(specOf({ cron: "0 9 15W * *" }).cron).toBe("0 9 15W * *");
    expect(specOf({ cron: "@daily" }).cron).toBe("@daily");
    expect(specOf({ cron: "0 0 29 2 *" }).cron).toBe("0 0 29 2 *");
  });

  test.each([
    ["61 * * * *", '"61 * * * *": minute 61 is out of range 0-59'],
    ["0 24 * * *", '"0 24 * * *": hour 24 is out of range 0-23'],
    ["0 0 32 * *", '"0 0 32 * *": day-of-month 32 is out of range 1-31'],
    ["0 0 0 * *", '"0 0 0 * *": day-of-month 0 is out of range 1-31'],
    ["0 0 1 13 *", '"0 0 1 13 *": month 13 is out of range 1-12'],
    ["0 0 * * 8", '"0 0 * * 8": day-of-week 8 is out of range 0-7'],
    ["60 0 0 * * *", '"60 0 0 * * *": second 60 is out of range 0-59'],
    ["0 1-70 * * *", '"0 1-70 * * *": hour 70 is out of range 0-23'],
    ["5,75 * * * *", '"5,75 * * * *": minute 75 is out of range 0-59'],
    ["*/0 * * * *", '"*/0 * * * *": minute step 0 is out of range 1-60'],
    [
      "* * * *",
      '"* * * *": has 4 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (second first)',
    ],
    [
      "0 0 0 1 1 * 2030",
      '"0 0 0 1 1 * 2030": has 7 fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (second first)',
    ],
    ["", '"": is empty'],
    ["@reboot", '"@reboot": @reboot is not supported: a schedule fires at times, not when kiln starts'],
    [
      "@often",
      '"@often": unknown nickname @often; known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
    ],
    ["0 0 30 2 *", '"0 0 30 2 *": matches no date (the day-of-month never falls in the months given)'],
  ])("%p is refused: %s", (cron, message) => {
    expect(errorsOf({ cron })).toEqual([{ field: "cron", message }]);
  });

  test("croner's own syntax errors are passed on, quoted and without its class name", () => {
    const [error] = errorsOf({ cron: "5/5 * * * *" });
    expect(error?.field).toBe("cron");
    expect(error?.message).toStartWith('"5/5 * * * *": syntax error, stepping with numeric prefix');
    const [letters] = errorsOf({ cron: "a b c d e" });
    expect(letters?.message).toStartWith('"a b c d e": ');
    expect(letters?.message).not.toContain("CronPattern");
  });

  test("a cron longer than 200 characters", () => {
    expect(errorsOf({ cron: `0 3 * * ${"1,".repeat(100)}2` })).toEqual([
      { field: "cron", message: "must be at most 200 characters, got 209" },
    ]);
  });

  test("a cron that is not a string", () => {
    expect(errorsOf({ cron: 5 })).toEqual([
      { field: "cron", message: "must be a cron expression string, got 5" },
    ]);
  });
});

describe("everyMs", () => {
  test("1000 ms and the largest safe integer are accepted", () => {
    expect(specOf({ everyMs: 1000 }).everyMs).toBe(1000);
    expect(specOf({ everyMs: Number.MAX_SAFE_INTEGER }).everyMs).toBe(Number.MAX_SAFE_INTEGER);
  });

  test.each([999, 0, -5, 1500.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY, "60000"])(
    "%p is refused",
    (everyMs) => {
      const [error] = errorsOf({ everyMs });
      expect(error?.field).toBe("everyMs");
      expect(error?.message).toStartWith("must be an integer number of milliseconds of at least 1000, got ");
    },
  );
});

describe("timezone", () => {
  test.each([
    ["Europe/Berlin", "Europe/Berlin"],
    ["America/New_York", "America/New_York"],
    ["Asia/Kolkata", "Asia/Kolkata"],
    ["UTC", "UTC"],
    ["europe/berlin", "Europe/Berlin"],
  ])("%p is accepted as %p", (timezone, canonical) => {
    expect(specOf({ cron: "0 3 * * *", timezone }).timezone).toBe(canonical);
  });

  test("an unknown zone names itself", () => {
    expect(errorsOf({ cron: "0 3 * * *", timezone: "Mars/Olympus" })).toEqual([
      {
        field: "timezone",
        message: '"Mars/Olympus" is not a known IANA time zone (such as "Europe/Berlin" or "UTC")',
      },
    ]);
  });

  test("an offset is refused: it has no daylight saving time", () => {
    const [error] = errorsOf({ cron: "0 3 * * *", timezone: "+01:00" });
    expect(error?.field).toBe("timezone");
    expect(error?.message).toStartWith('"+01:00" is a UTC offset; give an IANA time zone name');
  });

  test("empty and non-strings are refused", () => {
    expect(errorsOf({ cron: "0 3 * * *", timezone: "" })[0]?.field).toBe("timezone");
    expect(errorsOf({ cron: "0 3 * * *", timezone: 1 })[0]?.message).toBe(
      'must be an IANA time zone name such as "Europe/Berlin", got 1',
    );
  });

  test("a time zone with everyMs is refused", () => {
    expect(errorsOf({ everyMs: 60_000, timezone: "Europe/Berlin" })).toEqual([
      {
        field: "timezone",
        message: "applies to cron only: everyMs is a fixed interval, the same in every time zone",
      },
    ]);
  });
});

describe("misfire and backfillMs", () => {
  test("each policy is accepted; all keeps its window", () => {
    expect(specOf({ everyMs: 1000, misfire: "skip" }).misfire).toBe("skip");
    expect(specOf({ everyMs: 1000, misfire: "once" }).misfire).toBe("once");
    expect(specOf({ everyMs: 1000, misfire: "all", backfillMs: 3_600_000 })).toMatchObject({
      misfire: "all",
      backfillMs: 3_600_000,
    });
    expect(specOf({ everyMs: 1000, misfire: "all", backfillMs: MAX_BACKFILL_MS }).backfillMs).toBe(
      MAX_BACKFILL_MS,
    );
  });

  test("an unknown policy is refused", () => {
    expect(errorsOf({ everyMs: 1000, misfire: "never" })).toEqual([
      { field: "misfire", message: 'must be one of skip, once, all, got "never"' },
    ]);
  });

  test('"all" without backfillMs says what it is for', () => {
    expect(errorsOf({ everyMs: 1000, misfire: "all" })).toEqual([
      {
        field: "backfillMs",
        message: 'is required with misfire "all": how far back missed fire times are still run, in ms',
      },
    ]);
  });

  test.each([0, -1, 1.5, MAX_BACKFILL_MS + 1, "1000"])("backfillMs %p is refused", (backfillMs) => {
    const [error] = errorsOf({ everyMs: 1000, misfire: "all", backfillMs });
    expect(error?.field).toBe("backfillMs");
    expect(error?.message).toStartWith(`must be an integer from 1 to ${MAX_BACKFILL_MS} (31 days) ms, got`);
  });

  test("backfillMs with another policy means nothing and is refused", () => {
    expect(errorsOf({ everyMs: 1000, backfillMs: 5000 })).toEqual([
      { field: "backfillMs", message: 'applies to misfire "all" only; misfire is "once"' },
    ]);
  });
});

describe("overlap", () => {
  test("each policy is accepted", () => {
    for (const overlap of ["allow", "skip", "queue"] as const) {
      expect(specOf({ everyMs: 1000, overlap }).overlap).toBe(overlap);
    }
  });

  test("an unknown policy is refused", () => {
    expect(errorsOf({ everyMs: 1000, overlap: "wait" })).toEqual([
      { field: "overlap", message: 'must be one of allow, skip, queue, got "wait"' },
    ]);
  });
});

test("every broken rule is reported at once, under the prefix", () => {
  const checked = checkScheduleSpec(
    {
      cron: "0 25 * * *",
      timezone: "Nowhere/City",
      misfire: "later",
      overlap: "no",
    } as unknown as ScheduleSpecInput,
    "schedules[3].",
  );
  expect(checked.ok).toBe(false);
  expect(checked.ok ? [] : checked.errors.map((error) => error.field)).toEqual([
    "schedules[3].cron",
    "schedules[3].timezone",
    "schedules[3].misfire",
    "schedules[3].overlap",
  ]);
});
