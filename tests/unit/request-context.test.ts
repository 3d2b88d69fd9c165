import { describe, expect, test } from "bun:test";
import {
  childContext,
  normalizeContext,
  parseTraceparent,
} from "../../src/engine/creation/request-context.ts";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const SPAN_ID = "b7ad6b7169203331";

describe("parseTraceparent (W3C Trace Context)", () => {
  test("reads the four fields of version 00", () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01`)).toEqual({
      version: "00",
      traceId: TRACE_ID,
      parentId: SPAN_ID,
      flags: "01",
    });
  });

  test.each([
    ["upper-case hex", `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN_ID}-01`],
    ["an all-zero parent id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ["a fifth field on version 00", `00-${TRACE_ID}-${SPAN_ID}-01-00`],
    ["a short trace id", `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ["a later version whose extra text follows without a dash", `cc-${TRACE_ID}-${SPAN_ID}-01x`],
    ["no flags", `00-${TRACE_ID}-${SPAN_ID}`],
    ["empty", ""],
  ])("refuses %s", (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  test("a later version may add fields after a dash", () => {
    expect(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`)).toMatchObject({
      version: "cc",
      traceId: TRACE_ID,
    });
  });
});

describe("normalizeContext", () => {
  test("keeps valid values, trimmed, and drops the others without refusing", () => {
    expect(normalizeContext({ traceparent: ` 00-${TRACE_ID}-${SPAN_ID}-01 `, requestId: " r-1 " })).toEqual({
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
      requestId: "r-1",
    });
    expect(normalizeContext({ traceparent: "junk", requestId: "x".repeat(201) })).toEqual({
      traceparent: null,
      requestId: null,
    });
    expect(normalizeContext({ requestId: "x".repeat(200) }).requestId).toHaveLength(200);
    expect(normalizeContext({ requestId: "line\nbreak" }).requestId).toBeNull();
    expect(normalizeContext({ requestId: "é" }).requestId).toBeNull();
    expect(normalizeContext({ traceparent: 42, requestId: {} })).toEqual({
      traceparent: null,
      requestId: null,
    });
    expect(normalizeContext(undefined)).toEqual({ traceparent: null, requestId: null });
  });
});

describe("childContext", () => {
  test("keeps the trace id, the sampled flag and the request id, with a new span id each time", () => {
    const parent = { traceparent: `00-${TRACE_ID}-${SPAN_ID}-03`, requestId: "r-1" };
    const spans = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const child = childContext(parent);
      expect(child.requestId).toBe("r-1");
      const parsed = parseTraceparent(child.traceparent ?? "");
      // Only the sampled bit is defined in version 00; the others must be zero.
      expect(parsed).toMatchObject({ version: "00", traceId: TRACE_ID, flags: "01" });
      spans.add(parsed?.parentId ?? "");
    }
    expect(spans.has(SPAN_ID)).toBe(false);
    expect(spans.size).toBe(50);
  });

  test("an unsampled parent gives unsampled children; a later version is written as 00", () => {
    expect(
      childContext({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, requestId: null }).traceparent,
    ).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    expect(
      childContext({ traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01`, requestId: null }).traceparent,
    ).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
  });

  test("a parent without a trace gives none", () => {
    expect(childContext({ traceparent: null, requestId: "r-2" })).toEqual({
      traceparent: null,
      requestId: "r-2",
    });
  });
});
