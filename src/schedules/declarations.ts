/**
 * The schedules a task class declares (`static schedules`), checked for start-up to register.
 *
 * Every declaration is checked (timing and policies as in spec.ts; `params` JSON; `priority` a
 * 32-bit integer; `tags` at most 20 strings of 1-64 characters; `paused` a boolean; no field
 * outside ScheduleDeclaration, so a misspelled `timeZone` is an error instead of a schedule that
 * quietly runs in UTC), and all problems are reported together, each naming
 * `schedules[i].field`. Params are only checked to be JSON here: checking them against the
 * class's params schema is the registry's job, as for any task it creates.
 *
 * Ids: a declaration's `id` is used as written (1-200 of letters, digits and `_ . : @ -`, so it
 * sits in a URL as is). Without one, the id is derived from the task name and the timing, not
 * from the declaration's position: reordering or removing other declarations must not
 * give a schedule another one's id (and with it another one's next fire time). A cron schedule
 * gets `<taskName>:cron-<first 12 hex digits of SHA-256 of "<expression> <time zone>">`, with
 * the expression and time zone normalized (single spaces, canonical zone name); an interval
 * gets `<taskName>:every-<everyMs>`. Changing the expression or zone thus makes a new schedule
 * (its fire times are new anyway); changing params or policies keeps the id. Two declarations
 * of one class with the same timing derive the same id and must be given ids: that is an error.
 */
import { createHash } from "node:crypto";
import { MAX_PRIORITY, MAX_TAG_LENGTH, MAX_TAGS, MIN_PRIORITY } from "../engine/creation/create-options.ts";
import { checkJsonValue } from "../task/json-value.ts";
import type { ScheduleDeclaration } from "../task/schedule.ts";
import { checkScheduleSpec, type ScheduleFieldError, type ScheduleSpec } from "./spec.ts";

export const SCHEDULE_ID_PATTERN = /^[\w.:@-]{1,200}$/;

const DECLARATION_FIELDS = new Set<string>([
  "id",
  "cron",
  "everyMs",
  "timezone",
  "params",
  "priority",
  "tags",
  "misfire",
  "backfillMs",
  "overlap",
  "paused",
]);

/** Likely slips, to name the field meant. */
const MEANT_FIELD: Record<string, string> = {
  timeZone: "timezone",
  tz: "timezone",
  every: "everyMs",
  interval: "everyMs",
  intervalMs: "everyMs",
  backfill: "backfillMs",
  tag: "tags",
};

/** A declaration as start-up registers it. */
export interface DeclaredSchedule {
  id: string;
  /** True when `id` was derived (see the file's comment), not written in the declaration. */
  derivedId: boolean;
  taskName: string;
  spec: ScheduleSpec;
  params: unknown;
  priority: number;
  tags: string[] | null;
  paused: boolean;
}

export type ScheduleDeclarationsCheck =
  | { ok: true; schedules: DeclaredSchedule[] }
  | { ok: false; errors: ScheduleFieldError[] };

/** The id a declaration without one gets: stable across restarts and reorderings. */
export function derivedScheduleId(taskName: string, spec: ScheduleSpec): string {
  if (spec.cron === undefined) return `${taskName}:every-${spec.everyMs}`;
  const digest = createHash("sha256").update(`${spec.cron} ${spec.timezone}`).digest("hex");
  return `${taskName}:cron-${digest.slice(0, 12)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Problems with the fields that are not timing: id, params, priority, tags, paused. */
function otherFieldProblems(declaration: Record<string, unknown>): ScheduleFieldError[] {
  const errors: ScheduleFieldError[] = [];
  for (const key of Object.keys(declaration)) {
    if (DECLARATION_FIELDS.has(key)) continue;
    const meant = MEANT_FIELD[key];
    errors.push({
      field: key,
      message: `is not a schedule field${meant ? ` (did you mean ${meant}?)` : ""}`,
    });
  }
  const { id, params, priority, tags, paused } = declaration;
  if (id !== undefined && (typeof id !== "string" || !SCHEDULE_ID_PATTERN.test(id))) {
    errors.push({
      field: "id",
      message: `must be 1-200 letters, digits or _ . : @ -, got ${JSON.stringify(id) ?? String(id)}`,
    });
  }
  if (params !== undefined) {
    try {
      checkJsonValue(params, { what: "params", maxBytes: Number.MAX_SAFE_INTEGER });
    } catch (error) {
      errors.push({ field: "params", message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (
    priority !== undefined &&
    (!Number.isInteger(priority) ||
      (priority as number) < MIN_PRIORITY ||
      (priority as number) > MAX_PRIORITY)
  ) {
    errors.push({ field: "priority", message: `must be a 32-bit integer, got ${String(priority)}` });
  }
  if (
    tags !== undefined &&
    (!Array.isArray(tags) ||
      tags.length > MAX_TAGS ||
      tags.some((tag) => typeof tag !== "string" || tag.length < 1 || tag.length > MAX_TAG_LENGTH))
  ) {
    errors.push({
      field: "tags",
      message: `must be an array of at most ${MAX_TAGS} strings of 1 to ${MAX_TAG_LENGTH} characters`,
    });
  }
  if (paused !== undefined && typeof paused !== "boolean") {
    errors.push({ field: "paused", message: `must be true or false, got ${String(paused)}` });
  }
  return errors;
}

/**
 * Checks a class's `static schedules` (anything: it comes from user code) and gives each its id.
 * `undefined` is no schedules.
 */
export function checkScheduleDeclarations(
  taskName: string,
  declarations: unknown,
): ScheduleDeclarationsCheck {
  if (declarations === undefined) return { ok: true, schedules: [] };
  if (!Array.isArray(declarations)) {
    return {
      ok: false,
      errors: [{ field: "schedules", message: "must be an array of schedule declarations" }],
    };
  }
  const errors: ScheduleFieldError[] = [];
  const schedules: DeclaredSchedule[] = [];
  const firstIndexOfId = new Map<string, number>();
  for (const [index, declaration] of (declarations as readonly unknown[]).entries()) {
    const at = `schedules[${index}]`;
    if (!isRecord(declaration)) {
      errors.push({
        field: at,
        message: 'must be an object such as { cron: "0 3 * * *" } or { everyMs: 60000 }',
      });
      continue;
    }
    const own = otherFieldProblems(declaration).map((error) => ({ ...error, field: `${at}.${error.field}` }));
    const timing = checkScheduleSpec(declaration, `${at}.`);
    errors.push(...own, ...(timing.ok ? [] : timing.errors));
    if (!timing.ok || own.length > 0) continue;
    const typed = declaration as unknown as ScheduleDeclaration;
    const derivedId = typed.id === undefined;
    const id = typed.id ?? derivedScheduleId(taskName, timing.spec);
    const earlier = firstIndexOfId.get(id);
    if (earlier !== undefined) {
      errors.push({
        field: `${at}.id`,
        message: derivedId
          ? `derives the id ${JSON.stringify(id)} that schedules[${earlier}] also has (same timing); give each of them an id`
          : `${JSON.stringify(id)} is already the id of schedules[${earlier}]; ids must be unique`,
      });
      continue;
    }
    firstIndexOfId.set(id, index);
    schedules.push({
      id,
      derivedId,
      taskName,
      spec: timing.spec,
      params: typed.params,
      priority: typed.priority ?? 0,
      tags: typed.tags && typed.tags.length > 0 ? [...typed.tags] : null,
      paused: typed.paused ?? false,
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, schedules };
}
