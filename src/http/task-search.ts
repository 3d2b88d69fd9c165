import { t } from "elysia";
import { LATEST_DATE_MS } from "../engine/index.ts";
import {
  type ListTasksQuery,
  MAX_PARAM_DEPTH,
  MAX_PARAM_VALUE_LENGTH,
  PARAM_PATH_PATTERN,
  type ParamFilter,
} from "../store/index.ts";
import { httpError } from "./errors.ts";

/** The query keys of params filters start with this: `param.customerId=c-42`. */
export const PARAM_PREFIX = "param.";
/** Params filters one query may combine (each one more index lookup per task read). */
export const MAX_PARAM_FILTERS = 4;

/** Epoch milliseconds, or an ISO 8601 date-time with a zone (Z or an offset), as `runAt` takes. */
const TIME_PATTERN =
  "^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))$";

function timeBound(name: string, what: string) {
  return t.Optional(
    t.String({
      pattern: TIME_PATTERN,
      description: `${what}: epoch milliseconds or an ISO 8601 date-time with its zone`,
      examples: ["2025-05-01T00:00:00Z"],
      error: `${name} must be epoch milliseconds or an ISO 8601 date-time with its zone, such as 2025-05-01T12:00:00Z`,
    }),
  );
}

/** The time filters of `GET /tasks`; each is half-open: "after" includes its instant, "before" does not. */
export const TimeFilterQuery = {
  createdAfter: timeBound("createdAfter", "Created at or after this time"),
  createdBefore: timeBound("createdBefore", "Created before this time"),
  endedAfter: timeBound(
    "endedAfter",
    "Ended at or after this time (a task that has not ended never matches)",
  ),
  endedBefore: timeBound("endedBefore", "Ended before this time (a task that has not ended never matches)"),
};

type TimeField = keyof typeof TimeFilterQuery;

function invalid(field: string, message: string): never {
  throw httpError("validation", 422, `invalid query: "${field}" ${message}`, {
    in: "query",
    issues: [{ path: field, message }],
  });
}

/** A time bound of the query as epoch ms; the schema checked its form, this its calendar. */
function epochMs(field: TimeField, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) invalid(field, `is not a date-time: ${text}`);
  if (ms > LATEST_DATE_MS) invalid(field, "is past the end of year 9999");
  return ms;
}

/** The time bounds of a query, checked against each other as well. */
export function timeFilters(query: Partial<Record<TimeField, string>>): Partial<Record<TimeField, number>> {
  const bounds = {
    createdAfter: epochMs("createdAfter", query.createdAfter),
    createdBefore: epochMs("createdBefore", query.createdBefore),
    endedAfter: epochMs("endedAfter", query.endedAfter),
    endedBefore: epochMs("endedBefore", query.endedBefore),
  };
  for (const kind of ["created", "ended"] as const) {
    const after = bounds[`${kind}After`];
    const before = bounds[`${kind}Before`];
    if (after !== undefined && before !== undefined && after >= before) {
      invalid(`${kind}Before`, `must be later than ${kind}After`);
    }
  }
  return bounds;
}

/**
 * The params filters of a request's query string: every `param.<path>=<value>`. Read from the
 * URL rather than the schema, since their keys are open; checked here with the same care.
 */
export function paramFilters(url: string): ParamFilter[] {
  const filters: ParamFilter[] = [];
  // The query string alone: a request without a usable Host has a URL that `new URL` refuses.
  const query = url.indexOf("?");
  const search = new URLSearchParams(query < 0 ? "" : url.slice(query + 1).split("#", 1)[0]);
  for (const [key, value] of search) {
    if (!key.startsWith(PARAM_PREFIX)) continue;
    const path = key.slice(PARAM_PREFIX.length);
    if (!PARAM_PATH_PATTERN.test(path)) {
      invalid(
        key,
        `is not a params path: up to ${MAX_PARAM_DEPTH} keys joined by dots, each of 1-64 letters, digits, "_" or "-" (param.customerId, param.order.id)`,
      );
    }
    if (filters.some((filter) => filter.path === path)) invalid(key, "is given more than once");
    if (value.length > MAX_PARAM_VALUE_LENGTH) {
      invalid(key, `is longer than ${MAX_PARAM_VALUE_LENGTH} characters (longer values are not searchable)`);
    }
    filters.push({ path, value });
  }
  if (filters.length > MAX_PARAM_FILTERS) {
    invalid(PARAM_PREFIX, `filters number ${filters.length}; at most ${MAX_PARAM_FILTERS} may be combined`);
  }
  return filters;
}

/** Every filter of a `GET /tasks` query, as the store takes them. */
export function searchFilters(
  url: string,
  query: Partial<Record<TimeField, string>>,
): Pick<ListTasksQuery, "params" | TimeField> {
  const params = paramFilters(url);
  return { ...timeFilters(query), ...(params.length > 0 ? { params } : {}) };
}

export const SEARCH_DESCRIPTION =
  "Filters combine (all must hold) and page like the others. " +
  "`param.<path>=<value>` (e.g. `param.customerId=c-42`, `param.order.id=7`, up to " +
  `${MAX_PARAM_FILTERS}) matches tasks whose params field at that path has that value, compared as text ` +
  "(a number as JSON writes it, a boolean as true or false). Searchable are scalar fields of objects " +
  `nested up to ${MAX_PARAM_DEPTH} levels, strings up to ${MAX_PARAM_VALUE_LENGTH} characters, the first 32 fields of a task; ` +
  "not array items. A server that encrypts params at rest keeps no searchable copy: a param filter is a 422 " +
  "param_filters_unavailable there. createdAfter/endedAfter include their instant, createdBefore/endedBefore do not; " +
  "each takes epoch milliseconds or an ISO 8601 date-time with its zone.";
