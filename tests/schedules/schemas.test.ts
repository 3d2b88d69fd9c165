import { describe, expect, test } from "bun:test";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  applySchedulePatch,
  CreateScheduleBody,
  checkScheduleSpec,
  MAX_BACKFILL_MS,
  type ScheduleSpec,
  UpdateScheduleBody,
} from "../../src/schedules/index.ts";

/** The paths the schema refuses in `body` ([] when it accepts it). */
function refused(schema: TSchema, body: unknown): string[] {
  return [...Value.Errors(schema, body)].map((error) => error.path);
}

describe("POST /schedules body", () => {
  test("accepts a cron schedule and an interval schedule with every field", () => {
    expect(
      refused(CreateScheduleBody, { name: "report", cron: "0 3 * * *", timezone: "Europe/Berlin" }),
    ).toEqual([]);
    expect(
      refused(CreateScheduleBody, {
        id: "report.nightly",
        name: "report",
        everyMs: 60_000,
        params: { format: "pdf" },
        priority: -3,
        tags: ["nightly"],
        misfire: "all",
        backfillMs: MAX_BACKFILL_MS,
        overlap: "queue",
        paused: true,
      }),
    ).toEqual([]);
  });

  test.each([
    [{ cron: "0 3 * * *" }, "/name"],
    [{ name: "report", everyMs: 999 }, "/everyMs"],
    [{ name: "report", everyMs: 1500.5 }, "/everyMs"],
    [{ name: "report", everyMs: 60_000, misfire: "never" }, "/misfire"],
    [{ name: "report", everyMs: 60_000, overlap: "wait" }, "/overlap"],
    [{ name: "report", everyMs: 60_000, misfire: "all", backfillMs: 0 }, "/backfillMs"],
    [{ name: "report", everyMs: 60_000, misfire: "all", backfillMs: MAX_BACKFILL_MS + 1 }, "/backfillMs"],
    [{ name: "report", everyMs: 60_000, priority: 2 ** 31 }, "/priority"],
    [{ name: "report", everyMs: 60_000, tags: [""] }, "/tags/0"],
    [{ name: "report", everyMs: 60_000, id: "has space" }, "/id"],
    [{ name: "report", everyMs: 60_000, cron: "" }, "/cron"],
    [{ name: "report", everyMs: 60_000, timeZone: "UTC" }, "/timeZone"],
  ])("refuses %j at %s", (body, path) => {
    expect(refused(CreateScheduleBody, body)).toContain(path);
  });

  test("what the schema cannot say, the spec check does, on the same body", () => {
    const body = { name: "report", cron: "0 3 * * *", everyMs: 60_000 };
    expect(refused(CreateScheduleBody, body)).toEqual([]);
    expect(checkScheduleSpec(body)).toEqual({
      ok: false,
      errors: [{ field: "cron", message: "give either cron or everyMs, not both" }],
    });
  });
});

describe("PATCH /schedules/:id body", () => {
  test("takes any one field, null for timezone and backfillMs, and not the name or the id", () => {
    expect(refused(UpdateScheduleBody, { paused: true })).toEqual([]);
    expect(refused(UpdateScheduleBody, { timezone: null, backfillMs: null })).toEqual([]);
    expect(refused(UpdateScheduleBody, {}).length).toBeGreaterThan(0);
    expect(refused(UpdateScheduleBody, { name: "other" })).toContain("/name");
    expect(refused(UpdateScheduleBody, { id: "other" })).toContain("/id");
  });
});

describe("applying a PATCH to a stored schedule", () => {
  const cron: ScheduleSpec = {
    cron: "0 3 * * *",
    timezone: "Europe/Berlin",
    misfire: "all",
    backfillMs: 3_600_000,
    overlap: "skip",
  };
  const interval: ScheduleSpec = { everyMs: 60_000, misfire: "once", backfillMs: null, overlap: "allow" };
  const checked = (spec: ScheduleSpec, patch: Parameters<typeof applySchedulePatch>[1]) =>
    checkScheduleSpec(applySchedulePatch(spec, patch));

  test("a field given replaces the stored one; the rest stay", () => {
    expect(checked(cron, { cron: "30 4 * * *" })).toEqual({
      ok: true,
      spec: { ...cron, cron: "30 4 * * *" },
    });
    expect(checked(cron, { overlap: "queue" })).toEqual({ ok: true, spec: { ...cron, overlap: "queue" } });
  });

  test("everyMs replaces cron and its time zone; cron replaces everyMs", () => {
    expect(checked(cron, { everyMs: 5000 })).toEqual({
      ok: true,
      spec: { everyMs: 5000, misfire: "all", backfillMs: 3_600_000, overlap: "skip" },
    });
    expect(checked(interval, { cron: "*/5 * * * *", timezone: "Asia/Kolkata" })).toEqual({
      ok: true,
      spec: {
        cron: "*/5 * * * *",
        timezone: "Asia/Kolkata",
        misfire: "once",
        backfillMs: null,
        overlap: "allow",
      },
    });
  });

  test("null removes the time zone (back to UTC) and the window", () => {
    expect(checked(cron, { timezone: null })).toMatchObject({ ok: true, spec: { timezone: "UTC" } });
    expect(checked(cron, { backfillMs: null })).toEqual({
      ok: false,
      errors: [
        {
          field: "backfillMs",
          message: 'is required with misfire "all": how far back missed fire times are still run, in ms',
        },
      ],
    });
  });

  test('leaving misfire "all" drops the window; going to "all" needs one', () => {
    expect(checked(cron, { misfire: "once" })).toEqual({
      ok: true,
      spec: { ...cron, misfire: "once", backfillMs: null },
    });
    expect(checked(interval, { misfire: "all" })).toMatchObject({ ok: false });
    expect(checked(interval, { misfire: "all", backfillMs: 60_000 })).toMatchObject({
      ok: true,
      spec: { misfire: "all", backfillMs: 60_000 },
    });
  });

  test("both cron and everyMs, or a zone for an interval, are refused by the check", () => {
    expect(checked(cron, { cron: "* * * * *", everyMs: 5000 })).toMatchObject({
      ok: false,
      errors: [{ field: "cron" }],
    });
    expect(checked(interval, { timezone: "Europe/Berlin" })).toMatchObject({
      ok: false,
      errors: [{ field: "timezone" }],
    });
  });
});
