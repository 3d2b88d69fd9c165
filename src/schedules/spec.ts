/**
 * A schedule's timing and policies, as given (by a task class or the API), checked and filled in.
 *
 * Rules (each broken one is reported as `{ field, message }`, all of them at once, so the API can
 * answer one 422 that lists everything):
 * - exactly one of `cron` and `everyMs`;
 * - `cron`: at most 200 characters, 5 or 6 fields (seconds optional), read by croner (see
 *   cron-expression.ts), matching at least one date; stored with single spaces;
 * - `everyMs`: a safe integer of at least 1000;
 * - `timezone`: an IANA name that `Intl.DateTimeFormat` accepts (stored as its canonical
 *   spelling, `europe/berlin` → `Europe/Berlin`); not an offset such as `+01:00`, which has no
 *   daylight saving time and so would drift from the place the schedule is meant for; only
 *   with `cron` (an interval has no wall clock); default UTC;
 * - `misfire`: `skip`, `once` (default) or `all`; `all` needs `backfillMs`, an integer from 1 ms
 *   to 31 days (enough for a monthly schedule to catch up one missed month), and `backfillMs` is
 *   refused with any other policy, where it would mean nothing;
 * - `overlap`: `allow` (default), `skip` or `queue`.
 */
import {
  MISFIRE_POLICIES,
  type MisfirePolicy,
  OVERLAP_POLICIES,
  type OverlapPolicy,
} from "../task/schedule.ts";
import { cronProblem, normalizeCron } from "./cron-expression.ts";

export const MIN_EVERY_MS = 1_000;
export const MAX_CRON_LENGTH = 200;
export const MAX_BACKFILL_MS = 31 * 24 * 60 * 60 * 1_000;
export const DEFAULT_TIMEZONE = "UTC";
export const DEFAULT_MISFIRE: MisfirePolicy = "once";
export const DEFAULT_OVERLAP: OverlapPolicy = "allow";

/** The timing and policy fields as a client or a task class gives them. */
export interface ScheduleSpecInput {
  cron?: string;
  everyMs?: number;
  timezone?: string;
  misfire?: MisfirePolicy;
  backfillMs?: number;
  overlap?: OverlapPolicy;
}

interface SchedulePolicies {
  misfire: MisfirePolicy;
  /** Set exactly when `misfire` is `"all"`. */
  backfillMs: number | null;
  overlap: OverlapPolicy;
}

export interface CronScheduleSpec extends SchedulePolicies {
  cron: string;
  timezone: string;
  everyMs?: never;
}

export interface IntervalScheduleSpec extends SchedulePolicies {
  everyMs: number;
  cron?: never;
  timezone?: never;
}

/** A checked schedule: defaults filled in, the expression and the time zone normalized. */
export type ScheduleSpec = CronScheduleSpec | IntervalScheduleSpec;

/** One broken rule: the field (`cron`, `schedules[1].everyMs`) and what is wrong with it. */
export interface ScheduleFieldError {
  field: string;
  message: string;
}

export type ScheduleSpecCheck =
  | { ok: true; spec: ScheduleSpec }
  | { ok: false; errors: ScheduleFieldError[] };

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/**
 * The canonical name of an IANA time zone, or what is wrong with it. `Intl` also takes offsets
 * ("+01:00"); those are refused (see the file's comment).
 */
export function timezoneOf(value: unknown): { timezone: string } | { problem: string } {
  if (typeof value !== "string" || value.trim() === "") {
    return { problem: `must be an IANA time zone name such as "Europe/Berlin", got ${describe(value)}` };
  }
  if (/^[+-]\d/.test(value.trim())) {
    return {
      problem: `${JSON.stringify(value)} is a UTC offset; give an IANA time zone name such as "Europe/Berlin", which follows daylight saving time`,
    };
  }
  try {
    return {
      timezone: new Intl.DateTimeFormat("en-US", { timeZone: value.trim() }).resolvedOptions().timeZone,
    };
  } catch {
    return {
      problem: `${JSON.stringify(value)} is not a known IANA time zone (such as "Europe/Berlin" or "UTC")`,
    };
  }
}

function oneOf<T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
  errors: ScheduleFieldError[],
): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  errors.push({ field, message: `must be one of ${allowed.join(", ")}, got ${describe(value)}` });
  return fallback;
}

/**
 * Checks a schedule's timing and policies. `prefix` names where they sit in a larger value
 * (`schedules[0].`), so the errors point at the field the caller wrote. Fields other than these
 * six are not looked at: the caller checks the rest of its object.
 */
export function checkScheduleSpec(input: ScheduleSpecInput, prefix = ""): ScheduleSpecCheck {
  const errors: ScheduleFieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field: `${prefix}${field}`, message });
  const { cron, everyMs, timezone, backfillMs } = input as Record<string, unknown>;

  let expression: string | null = null;
  let interval: number | null = null;
  if (cron !== undefined && everyMs !== undefined) {
    fail("cron", "give either cron or everyMs, not both");
  } else if (cron === undefined && everyMs === undefined) {
    fail("cron", "one of cron (a cron expression) or everyMs (an interval in ms) is required");
  } else if (cron !== undefined) {
    if (typeof cron !== "string") {
      fail("cron", `must be a cron expression string, got ${describe(cron)}`);
    } else if (cron.length > MAX_CRON_LENGTH) {
      fail("cron", `must be at most ${MAX_CRON_LENGTH} characters, got ${cron.length}`);
    } else {
      expression = normalizeCron(cron);
      const problem = cronProblem(expression);
      if (problem) fail("cron", problem);
    }
  } else if (typeof everyMs !== "number" || !Number.isSafeInteger(everyMs) || everyMs < MIN_EVERY_MS) {
    fail(
      "everyMs",
      `must be an integer number of milliseconds of at least ${MIN_EVERY_MS}, got ${describe(everyMs)}`,
    );
  } else {
    interval = everyMs;
  }

  let zone = DEFAULT_TIMEZONE;
  if (timezone !== undefined) {
    if (everyMs !== undefined && cron === undefined) {
      fail("timezone", "applies to cron only: everyMs is a fixed interval, the same in every time zone");
    } else {
      const checked = timezoneOf(timezone);
      if ("problem" in checked) fail("timezone", checked.problem);
      else zone = checked.timezone;
    }
  }

  const misfire = oneOf(`${prefix}misfire`, input.misfire, MISFIRE_POLICIES, DEFAULT_MISFIRE, errors);
  const overlap = oneOf(`${prefix}overlap`, input.overlap, OVERLAP_POLICIES, DEFAULT_OVERLAP, errors);
  let backfill: number | null = null;
  if (misfire === "all") {
    if (backfillMs === undefined) {
      fail(
        "backfillMs",
        `is required with misfire "all": how far back missed fire times are still run, in ms`,
      );
    } else if (
      typeof backfillMs !== "number" ||
      !Number.isSafeInteger(backfillMs) ||
      backfillMs < 1 ||
      backfillMs > MAX_BACKFILL_MS
    ) {
      fail(
        "backfillMs",
        `must be an integer from 1 to ${MAX_BACKFILL_MS} (31 days) ms, got ${describe(backfillMs)}`,
      );
    } else {
      backfill = backfillMs;
    }
  } else if (backfillMs !== undefined && errors.every((error) => error.field !== `${prefix}misfire`)) {
    fail("backfillMs", `applies to misfire "all" only; misfire is "${misfire}"`);
  }

  if (errors.length > 0) return { ok: false, errors };
  const policies = { misfire, backfillMs: backfill, overlap };
  if (expression !== null) return { ok: true, spec: { cron: expression, timezone: zone, ...policies } };
  return { ok: true, spec: { everyMs: interval as number, ...policies } };
}
