/**
 * Cron expressions, read by croner with kiln's rules, and what is wrong with a bad one.
 *
 * - 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; croner's
 *   7th (year) field is refused. The nicknames `@yearly`, `@monthly`, `@weekly`, `@daily`,
 *   `@hourly` are accepted; `@reboot` is not (a schedule fires at times, not at start-up).
 * - Day-of-month and day-of-week match when either does (Vixie cron; croner's default);
 *   a `+` before the day-of-week (`0 12 1 * +MON`) asks for both.
 * - Times are read in the schedule's time zone, UTC when it has none (never the host's zone).
 * - DST, as croner documents it (11.x, the same as croner-rust and close to Vixie cron), with
 *   `fixedTimeRule: "no-wildcard"`: a job whose second, minute and hour fields hold no `*`, `?`
 *   or step (`30 2 * * *`, `0 2,14 * * *`) is a fixed-time job. When its time falls in the
 *   spring-forward gap it runs at the first valid time after the gap, that day; when its time
 *   happens twice at fall-back it runs once, at the first. Any other job (`0 * * * *`,
 *   `*\/15 * * * *`) is an interval job: a time in the gap does not exist and is skipped, and
 *   a repeated time runs both times (so an hourly job fires 23 times on the spring-forward day
 *   and 25 on the fall-back day). "no-wildcard" rather than croner's default "single-value" so
 *   that a list of fixed times (`0 2,14 * * *`) neither doubles nor drops a run at a change.
 *
 * The field ranges are checked here before croner sees the expression, so that the message
 * names the field and its range (croner's names the field but, for day-of-month and month, a
 * value one less than the one written).
 */
import { Cron, type CronOptions } from "croner";

const CRON_OPTIONS = {
  paused: true,
  mode: "5-or-6-parts",
  fixedTimeRule: "no-wildcard",
} as const satisfies CronOptions;

interface CronField {
  name: string;
  min: number;
  max: number;
}

const SECOND: CronField = { name: "second", min: 0, max: 59 };
const FIVE_FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day-of-week", min: 0, max: 7 },
];

const NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/** The expression with its fields separated by single spaces, as it is stored and shown. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(" ");
}

/** The first out-of-range number of one field ("minute 61 is out of range 0-59"), if any. */
function fieldRangeProblem(field: CronField, text: string): string | null {
  for (const item of text.split(",")) {
    const [range = "", step] = item.replace(/^\+/, "").split("/");
    if (step !== undefined && /^\d+$/.test(step)) {
      const size = Number(step);
      if (size < 1 || size > field.max - field.min + 1) {
        return `${field.name} step ${step} is out of range 1-${field.max - field.min + 1}`;
      }
    }
    for (const part of range.split("-")) {
      // 15W (nearest weekday), 5#2 (second Friday), 5L: the number is what comes first.
      const number = part.replace(/(W|L|#.*)$/i, "");
      if (!/^\d+$/.test(number)) continue;
      const value = Number(number);
      if (value < field.min || value > field.max) {
        return `${field.name} ${number} is out of range ${field.min}-${field.max}`;
      }
    }
  }
  return null;
}

/** What is wrong with the shape of an expression before croner reads it, if anything. */
function shapeProblem(expression: string): string | null {
  if (expression === "") return "is empty";
  if (expression.startsWith("@")) {
    if (expression.toLowerCase() === "@reboot") {
      return "@reboot is not supported: a schedule fires at times, not when kiln starts";
    }
    if (!NICKNAMES.includes(expression.toLowerCase())) {
      return `unknown nickname ${expression}; known: ${NICKNAMES.join(", ")}`;
    }
    return null;
  }
  const parts = expression.split(" ");
  if (parts.length !== 5 && parts.length !== 6) {
    return `has ${parts.length} field${parts.length === 1 ? "" : "s"}; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 (second first)`;
  }
  const fields = parts.length === 6 ? [SECOND, ...FIVE_FIELDS] : FIVE_FIELDS;
  for (const [index, field] of fields.entries()) {
    const problem = fieldRangeProblem(field, parts[index] as string);
    if (problem) return problem;
  }
  return null;
}

/** croner's message without its class prefix, starting in lower case. */
function cronerMessage(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^\w+:\s*/, "");
  return message.charAt(0).toLowerCase() + message.slice(1);
}

// Jobs are built once per expression and time zone: building one costs about 70 µs.
const MAX_CACHED_JOBS = 1_000;
const jobs = new Map<string, Cron>();

/**
 * A paused croner job for `expression` in `timezone` (an IANA name, already checked), to ask for
 * fire times. Throws croner's error for an expression that `cronProblem` would refuse.
 */
export function cronJob(expression: string, timezone: string): Cron {
  const key = `${timezone} ${expression}`;
  let job = jobs.get(key);
  if (!job) {
    job = new Cron(expression, { ...CRON_OPTIONS, timezone });
    if (jobs.size >= MAX_CACHED_JOBS) jobs.clear();
    jobs.set(key, job);
  }
  return job;
}

/**
 * What is wrong with a (normalized) cron expression, as a message that quotes it and names the
 * field (`"61 * * * *": minute 61 is out of range 0-59`); null when croner reads it and it
 * matches at least one date.
 */
export function cronProblem(expression: string): string | null {
  const quoted = JSON.stringify(expression);
  const shape = shapeProblem(expression);
  if (shape) return `${quoted}: ${shape}`;
  let job: Cron;
  try {
    job = new Cron(expression, { ...CRON_OPTIONS, timezone: "UTC" });
  } catch (error) {
    return `${quoted}: ${cronerMessage(error)}`;
  }
  // From a fixed date, so that the answer does not depend on the clock: croner looks years
  // ahead, so only an expression that can never match (30 February) finds nothing.
  if (job.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
    return `${quoted}: matches no date (the day-of-month never falls in the months given)`;
  }
  return null;
}
