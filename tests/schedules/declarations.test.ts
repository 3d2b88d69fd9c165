import { describe, expect, test } from "bun:test";
import * as kiln from "../../src/index.ts";
import { checkScheduleDeclarations, derivedScheduleId } from "../../src/schedules/index.ts";
import { BaseTask, type ScheduleDeclaration, type TaskClass } from "../../src/task/index.ts";

function schedulesOf(declarations: unknown) {
  const checked = checkScheduleDeclarations("report", declarations);
  if (!checked.ok) throw new Error(`expected schedules, got ${JSON.stringify(checked.errors)}`);
  return checked.schedules;
}

function errorsOf(declarations: unknown) {
  const checked = checkScheduleDeclarations("report", declarations);
  if (checked.ok) throw new Error(`expected errors, got ${JSON.stringify(checked.schedules)}`);
  return checked.errors;
}

describe("a task class's static schedules", () => {
  test("is part of the SDK's types: a class declares it and a TaskClass carries it", () => {
    class NightlyReport extends BaseTask<{ format: string }> {
      static override taskName = "nightly-report";
      static override schedules = [
        {
          cron: "0 3 * * *",
          timezone: "Europe/Berlin",
          params: { format: "pdf" },
          misfire: "all",
          backfillMs: 3_600_000,
        },
        { everyMs: 60_000, overlap: "skip", tags: ["tick"] },
      ] satisfies ScheduleDeclaration[];
      async run() {}
    }
    const cls: TaskClass = NightlyReport;
    const checked = checkScheduleDeclarations(cls.taskName, cls.schedules);
    expect(checked.ok).toBe(true);
    expect(checked.ok && checked.schedules.map((schedule) => schedule.id)).toEqual([
      derivedScheduleId("nightly-report", {
        cron: "0 3 * * *",
        timezone: "Europe/Berlin",
        misfire: "all",
        backfillMs: 3_600_000,
        overlap: "allow",
      }),
      "nightly-report:every-60000",
    ]);
  });

  test("no schedules and an empty list are both none", () => {
    expect(schedulesOf(undefined)).toEqual([]);
    expect(schedulesOf([])).toEqual([]);
  });

  test("each declaration is filled in with its defaults", () => {
    expect(schedulesOf([{ id: "nightly", cron: "0  3 * * *" }])).toEqual([
      {
        id: "nightly",
        derivedId: false,
        taskName: "report",
        spec: { cron: "0 3 * * *", timezone: "UTC", misfire: "once", backfillMs: null, overlap: "allow" },
        params: undefined,
        priority: 0,
        tags: null,
        paused: false,
      },
    ]);
    expect(
      schedulesOf([{ everyMs: 5000, params: { a: 1 }, priority: 7, tags: ["x", "y"], paused: true }])[0],
    ).toMatchObject({ params: { a: 1 }, priority: 7, tags: ["x", "y"], paused: true });
  });
});

describe("derived ids", () => {
  test("come from the task name and the timing, not the position: reordering keeps them", () => {
    const a = { cron: "0 3 * * *", timezone: "Europe/Berlin" };
    const b = { everyMs: 60_000 };
    const c = { cron: "*/5 * * * * *" };
    const ids = (list: unknown[]) =>
      Object.fromEntries(schedulesOf(list).map((s) => [JSON.stringify(s.spec), s.id]));
    expect(ids([a, b, c])).toEqual(ids([c, a, b]));
    expect(ids([a, c])).toEqual(
      Object.fromEntries(Object.entries(ids([a, b, c])).filter(([key]) => !key.includes("everyMs"))),
    );
  });

  test("have a fixed form, the same from one run to the next", () => {
    expect(schedulesOf([{ everyMs: 60_000 }])[0]?.id).toBe("report:every-60000");
    const [cron] = schedulesOf([{ cron: "0 3 * * *", timezone: "Europe/Berlin" }]);
    // SHA-256 of "0 3 * * * Europe/Berlin", first 12 hex digits.
    expect(cron?.id).toBe("report:cron-f74948d906a9");
    expect(cron?.derivedId).toBe(true);
  });

  test("ignore spacing and the spelling of the zone; the zone and the task name count", () => {
    const id = (declaration: object, taskName = "report") => {
      const checked = checkScheduleDeclarations(taskName, [declaration]);
      return checked.ok ? checked.schedules[0]?.id : undefined;
    };
    const base = id({ cron: "0 3 * * *", timezone: "Europe/Berlin" });
    expect(id({ cron: " 0  3 * * * ", timezone: "europe/berlin" })).toBe(base);
    expect(
      id({ cron: "0 3 * * *", timezone: "Europe/Berlin", params: { other: true }, misfire: "skip" }),
    ).toBe(base);
    expect(id({ cron: "0 3 * * *", timezone: "America/New_York" })).not.toBe(base);
    expect(id({ cron: "0 3 * * *" })).not.toBe(base);
    expect(id({ cron: "0 3 * * *", timezone: "Europe/Berlin" }, "other-task")).not.toBe(base);
  });
});

describe("id clashes within a class", () => {
  test("two declarations with the same timing and no ids must be given ids", () => {
    expect(
      errorsOf([
        { cron: "0 3 * * *", params: { a: 1 } },
        { cron: "0 3 * * *", params: { a: 2 } },
      ]),
    ).toEqual([
      {
        field: "schedules[1].id",
        message: `derives the id "${derivedScheduleId("report", { cron: "0 3 * * *", timezone: "UTC", misfire: "once", backfillMs: null, overlap: "allow" })}" that schedules[0] also has (same timing); give each of them an id`,
      },
    ]);
    expect(
      schedulesOf([
        { id: "a", cron: "0 3 * * *", params: { a: 1 } },
        { id: "b", cron: "0 3 * * *", params: { a: 2 } },
      ]).map((schedule) => schedule.id),
    ).toEqual(["a", "b"]);
  });

  test("an id written twice is refused", () => {
    expect(
      errorsOf([
        { id: "x", everyMs: 1000 },
        { id: "x", everyMs: 2000 },
      ]),
    ).toEqual([
      { field: "schedules[1].id", message: '"x" is already the id of schedules[0]; ids must be unique' },
    ]);
  });

  test("an id written the same as another's derived id is refused", () => {
    expect(errorsOf([{ everyMs: 1000 }, { id: "report:every-1000", everyMs: 2000 }])[0]?.field).toBe(
      "schedules[1].id",
    );
  });
});

describe("bad declarations name the schedule and the field", () => {
  test("not an array, not an object", () => {
    expect(errorsOf({ cron: "0 3 * * *" })).toEqual([
      { field: "schedules", message: "must be an array of schedule declarations" },
    ]);
    expect(errorsOf(["0 3 * * *"])).toEqual([
      {
        field: "schedules[0]",
        message: 'must be an object such as { cron: "0 3 * * *" } or { everyMs: 60000 }',
      },
    ]);
  });

  test("a misspelled field is an error, not a schedule in UTC", () => {
    expect(errorsOf([{ cron: "0 3 * * *", timeZone: "Europe/Berlin" }])).toEqual([
      { field: "schedules[0].timeZone", message: "is not a schedule field (did you mean timezone?)" },
    ]);
    expect(errorsOf([{ cron: "0 3 * * *", color: "red" }])).toEqual([
      { field: "schedules[0].color", message: "is not a schedule field" },
    ]);
  });

  test("every problem of every declaration is listed", () => {
    const errors = errorsOf([
      { everyMs: 60_000 },
      { id: "has space", cron: "61 * * * *", priority: 1.5, tags: [""], paused: "yes", params: { n: 10n } },
      { everyMs: 10, timezone: "Europe/Berlin" },
    ]);
    expect(errors).toEqual([
      { field: "schedules[1].id", message: 'must be 1-200 letters, digits or _ . : @ -, got "has space"' },
      { field: "schedules[1].params", message: expect.stringContaining("params is not JSON") },
      { field: "schedules[1].priority", message: "must be a 32-bit integer, got 1.5" },
      { field: "schedules[1].tags", message: "must be an array of at most 20 strings of 1 to 64 characters" },
      { field: "schedules[1].paused", message: "must be true or false, got yes" },
      { field: "schedules[1].cron", message: '"61 * * * *": minute 61 is out of range 0-59' },
      {
        field: "schedules[2].everyMs",
        message: "must be an integer number of milliseconds of at least 1000, got 10",
      },
      {
        field: "schedules[2].timezone",
        message: "applies to cron only: everyMs is a fixed interval, the same in every time zone",
      },
    ]);
  });
});

test("the type refuses cron with everyMs, and a time zone on an interval, before kiln runs", () => {
  // @ts-expect-error: a declaration has cron or everyMs, not both
  const both: ScheduleDeclaration = { cron: "* * * * *", everyMs: 1000 };
  // @ts-expect-error: an interval has no time zone
  const zoned: ScheduleDeclaration = { everyMs: 1000, timezone: "UTC" };
  // @ts-expect-error: misfire is one of the three policies
  const policy: ScheduleDeclaration = { everyMs: 1000, misfire: "later" };
  expect(errorsOf([both, zoned, policy]).map((error) => error.field)).toEqual([
    "schedules[0].cron",
    "schedules[1].timezone",
    "schedules[2].misfire",
  ]);
});

test("the policies are public, from the SDK and from the package's main entry", () => {
  expect(kiln.MISFIRE_POLICIES).toEqual(["skip", "once", "all"]);
  expect(kiln.OVERLAP_POLICIES).toEqual(["allow", "skip", "queue"]);
  const declaration: kiln.ScheduleDeclaration = { everyMs: 1000 };
  expect(checkScheduleDeclarations("report", [declaration]).ok).toBe(true);
});
