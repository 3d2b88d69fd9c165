// The dashboard's pure logic (no browser): live table updates, forms from schemas, SSE parsing.
import { describe, expect, test } from "bun:test";
import {
  deleteEndedPlan,
  outcomeText,
  retryFailedPlan,
  selectionPlan,
  stopRunningPlan,
} from "../../src/dashboard/client/bulk-plans.ts";
import { formatExact, formatRelative, localTimeToIso } from "../../src/dashboard/client/format.ts";
import { offeredActions, statusLabel } from "../../src/dashboard/client/legal.ts";
import {
  collectParams,
  errorsByField,
  formFromSchema,
  initialValues,
  PARAMS_FIELD,
} from "../../src/dashboard/client/schema-form.ts";
import { parseSse } from "../../src/dashboard/client/sse.ts";
import { applyEvent, type Filters } from "../../src/dashboard/client/task-page.ts";
import type { BulkResult, StreamEvent, TaskJson } from "../../src/dashboard/client/types.ts";

function task(id: string, fields: Partial<TaskJson> = {}): TaskJson {
  return {
    id,
    name: "count",
    status: "PENDING",
    statusReason: null,
    params: {},
    result: null,
    error: null,
    progress: null,
    attempt: 1,
    priority: 0,
    tags: [],
    requestedAction: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    startTime: null,
    endTime: null,
    lastRunTime: null,
    runAt: null,
    durationMs: null,
    activeMs: 0,
    parentId: null,
    context: {},
    schedule: null,
    node: null,
    awaiting: null,
    onDependencyFailure: null,
    ...fields,
  };
}

const created = (t: TaskJson): StreamEvent => ({
  type: "transition",
  data: {
    at: t.createdAt,
    from: null,
    to: t.status,
    action: "create",
    reason: null,
    actor: "anonymous",
    source: "127.0.0.1",
    task: t,
  },
});

const ANY: Filters = { status: "", name: "", tag: "" };

describe("live table updates", () => {
  const page = { items: [task("03"), task("02"), task("01")], nextCursor: "01" };

  test("a new task goes on top of the first page, pushing the last row to the next page", () => {
    const next = applyEvent(page, created(task("04")), { filters: ANY, firstPage: true, limit: 3 });
    expect(next.items.map((t) => t.id)).toEqual(["04", "03", "02"]);
    expect(next.nextCursor).toBe("02");
  });

  test("a new task that misses the filters, or arrives while paging back, is left out", () => {
    const filtered = { filters: { ...ANY, tag: "nightly" }, firstPage: true, limit: 3 };
    expect(applyEvent(page, created(task("04")), filtered)).toBe(page);
    expect(applyEvent(page, created(task("04")), { filters: ANY, firstPage: false, limit: 3 })).toBe(page);
  });

  test("transitions and progress update a row in place; other tasks' events change nothing", () => {
    const where = { filters: { ...ANY, status: "PENDING" as const }, firstPage: true, limit: 3 };
    const moved = applyEvent(
      page,
      {
        type: "transition",
        data: {
          at: "",
          from: "PENDING",
          to: "RUNNING",
          action: "start",
          reason: null,
          actor: "kiln",
          source: null,
          task: task("02", { status: "RUNNING" }),
        },
      },
      where,
    );
    expect(moved.items.map((t) => t.status)).toEqual(["PENDING", "RUNNING", "PENDING"]);
    const progress = { done: 1, total: 4, percent: 25, message: "a quarter" };
    const ticked = applyEvent(moved, { type: "progress", data: { at: "", taskId: "02", progress } }, where);
    expect(ticked.items[1]?.progress).toEqual(progress);
    expect(applyEvent(ticked, { type: "progress", data: { at: "", taskId: "99", progress } }, where)).toBe(
      ticked,
    );
  });
});

describe("actions offered", () => {
  test("follow the engine's rules, and a pending request is not offered twice", () => {
    expect(offeredActions({ status: "RUNNING", requestedAction: null })).toEqual([
      "pause",
      "stop",
      "restart",
    ]);
    expect(offeredActions({ status: "RUNNING", requestedAction: "pause" })).toEqual([
      "resume",
      "stop",
      "restart",
    ]);
    expect(offeredActions({ status: "RUNNING", requestedAction: "stop" })).toEqual([]);
    expect(offeredActions({ status: "PAUSED", requestedAction: null })).toEqual([
      "resume",
      "stop",
      "restart",
    ]);
    expect(offeredActions({ status: "FINISHED", requestedAction: null })).toEqual(["restart"]);
    expect(statusLabel({ status: "RUNNING", requestedAction: "pause" })).toBe("pausing…");
    expect(statusLabel({ status: "RUNNING", requestedAction: null })).toBe("RUNNING");
  });
});

describe("forms from params schemas", () => {
  const schema = {
    type: "object",
    required: ["path", "steps", "mode"],
    properties: {
      path: { type: "string", description: "Where" },
      steps: { type: "integer", minimum: 1 },
      delayMs: { type: "integer", default: 5 },
      mode: { anyOf: [{ const: "fast" }, { const: "slow" }] },
      dryRun: { type: "boolean", default: true },
      extra: { type: "array" },
    },
  };

  test("fields follow the schema's types, with defaults and required marks", () => {
    const spec = formFromSchema(schema);
    expect(spec.freeform).toBe(false);
    expect(spec.fields.map((f) => [f.key, f.kind, f.required])).toEqual([
      ["path", "string", true],
      ["steps", "integer", true],
      ["delayMs", "integer", false],
      ["mode", "choice", true],
      ["dryRun", "boolean", false],
      ["extra", "json", false],
    ]);
    expect(spec.fields[3]?.choices).toEqual(["fast", "slow"]);
    expect(initialValues(spec)).toMatchObject({ path: "", dryRun: true });
  });

  test("values become typed params; empty fields are left to the server's defaults", () => {
    const spec = formFromSchema(schema);
    const values = { ...initialValues(spec), path: "/tmp", steps: "3", extra: "[1, 2]", mode: "slow" };
    expect(collectParams(spec, values)).toEqual({
      params: { path: "/tmp", steps: 3, mode: "slow", dryRun: true, extra: [1, 2] },
      errors: {},
    });
    expect(collectParams(spec, { ...values, steps: "1.5", extra: "[1," }).errors).toEqual({
      steps: "must be a whole number",
      extra: "is not valid JSON",
    });
  });

  test("the server's issues land next to their fields", () => {
    const spec = formFromSchema(schema);
    const issues = [
      { path: "/steps", message: "Expected required property" },
      { path: "/steps", message: "Expected integer" },
      { path: "/unknown", message: "Unexpected property" },
    ];
    expect(errorsByField(issues, "invalid_params", spec)).toEqual({
      steps: "Expected required property",
      "": "Unexpected property",
    });
    expect(errorsByField([{ path: "tags[0]", message: "too long" }], "validation", spec)).toEqual({
      "@tags": "too long",
    });
  });

  test("a schema without named fields is typed as one JSON document", () => {
    const spec = formFromSchema({});
    expect(spec.freeform).toBe(true);
    expect(collectParams(spec, { [PARAMS_FIELD]: '{"a": 1}' }).params).toEqual({ a: 1 });
    expect(collectParams(spec, { [PARAMS_FIELD]: "" }).params).toBeUndefined();
  });
});

describe("event stream parsing", () => {
  test("splits complete messages, skips comments and keeps the unfinished rest", () => {
    const { messages, rest } = parseSse(
      ': connected\n\nevent: log\ndata: {"a":1}\n\n: heartbeat\n\nevent: progress\r\ndata: {"b"',
    );
    expect(messages).toEqual([{ event: "log", data: '{"a":1}' }]);
    expect(rest).toBe('event: progress\ndata: {"b"');
    expect(parseSse(`${rest}:2}\n\n`).messages).toEqual([{ event: "progress", data: '{"b":2}' }]);
  });
});

describe("relative times", () => {
  const now = Date.parse("2026-03-10T12:00:00.000Z");
  const at = (ms: number) => new Date(now + ms).toISOString();

  test("say how long ago or how far ahead, in the largest whole unit", () => {
    expect(formatRelative(at(-2_000), now)).toBe("just now");
    expect(formatRelative(at(3_000), now)).toBe("just now");
    expect(formatRelative(at(-42_000), now)).toBe("42 s ago");
    expect(formatRelative(at(-59_999), now)).toBe("59 s ago");
    expect(formatRelative(at(-60_000), now)).toBe("1 min ago");
    expect(formatRelative(at(-3 * 3_600_000 - 5), now)).toBe("3 h ago");
    expect(formatRelative(at(2 * 3_600_000 + 1_000), now)).toBe("in 2 h");
    expect(formatRelative(at(-5 * 86_400_000), now)).toBe("5 d ago");
    expect(formatRelative(at(-45 * 86_400_000), now)).toMatch(/^2026-01-\d{2} \d{2}:\d{2}$/);
    expect(formatRelative(null, now)).toBe("—");
    expect(formatRelative("not a time", now)).toBe("—");
  });

  test("the exact time is local, to the millisecond, with its offset", () => {
    expect(formatExact(at(-1))).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.999 \(UTC[+-]\d{2}:\d{2}\)$/);
    expect(formatExact(null)).toBe("");
  });

  test("a datetime-local value is read as local time", () => {
    expect(localTimeToIso("2030-01-05T09:30")).toBe(new Date(2030, 0, 5, 9, 30).toISOString());
    expect(localTimeToIso("2030-01-05T09:30:15")).toBe(new Date(2030, 0, 5, 9, 30, 15).toISOString());
    expect(localTimeToIso("tomorrow")).toBeUndefined();
    expect(localTimeToIso("2030-13-45T99:99")).toBeUndefined();
  });
});

describe("bulk actions", () => {
  const filters = { status: "" as const, name: "report", tag: "" };

  test("each button asks for the filter's tasks in the status it acts on", () => {
    expect(retryFailedPlan(filters).body).toEqual({
      action: "restart",
      filter: { status: "FAILED", name: "report" },
    });
    expect(retryFailedPlan(filters).description).toContain('every FAILED task named "report"');
    expect(stopRunningPlan({ ...filters, tag: "x" }).body).toEqual({
      action: "stop",
      filter: { status: "RUNNING", name: "report", tag: "x" },
    });
    expect(deleteEndedPlan(filters)?.body).toEqual({ action: "delete", filter: { name: "report" } });
    expect(deleteEndedPlan({ ...filters, status: "FAILED" })?.body).toEqual({
      action: "delete",
      filter: { status: "FAILED", name: "report" },
    });
    expect(deleteEndedPlan({ ...filters, status: "RUNNING" })).toBeUndefined();
    expect(selectionPlan("pause", ["a", "b"])).toMatchObject({
      body: { action: "pause", ids: ["a", "b"] },
      title: "Pause 2 selected tasks",
      confirm: "Pause 2 tasks",
    });
  });

  test("the outcome tells done, waiting for a checkpoint, refused, and more to go apart", () => {
    const result = (fields: Partial<BulkResult>): BulkResult => ({
      action: "stop",
      results: [],
      succeeded: 0,
      failed: 0,
      truncated: false,
      nextCursor: null,
      ...fields,
    });
    expect(outcomeText(result({}))).toBe("No task matched.");
    expect(
      outcomeText(
        result({
          results: [
            { id: "a", ok: true, status: "STOPPED", requestedAction: null },
            { id: "b", ok: true, status: "RUNNING", requestedAction: "stop" },
            { id: "c", ok: true, status: "RUNNING", requestedAction: "stop" },
            {
              id: "d",
              ok: false,
              error: { code: "illegal_transition", message: "it has ended", httpStatus: 409 },
            },
          ],
          succeeded: 3,
          failed: 1,
        }),
      ),
    ).toBe("Stopped 1 task; 2 running tasks stop at their next checkpoint; 1 refused (it has ended).");
    expect(
      outcomeText(
        result({
          action: "delete",
          results: [{ id: "a", ok: true }],
          succeeded: 1,
          truncated: true,
          nextCursor: "a",
        }),
      ),
    ).toBe("Deleted 1 task. More tasks match: go on for the next 1,000.");
  });
});
