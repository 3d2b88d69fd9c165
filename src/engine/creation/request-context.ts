import { randomBytes } from "node:crypto";
import type { TaskRecord } from "../../store/index.ts";
import type { TaskContext } from "../../task/index.ts";

/** Longest `x-request-id` kept; a longer one is ignored, as an invalid traceparent is. */
export const MAX_REQUEST_ID_LENGTH = 200;

/** The version the W3C Trace Context recommendation defines, and the one kiln writes. */
const VERSION_00 = "00";
/** version-traceid-parentid-flags, lower-case hex; a later version may append "-…" fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
/** Printable ASCII, space included: what a log line or a header can carry without surprises. */
const PRINTABLE = /^[\x20-\x7e]+$/;

export interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/**
 * Parses a `traceparent` header by the W3C Trace Context rules: lower-case hex fields; version
 * `ff`, an all-zero trace id or parent id are invalid; version 00 has exactly four fields, a later
 * version may carry more after a dash (they are dropped). Undefined when it is not valid.
 */
export function parseTraceparent(value: string): Traceparent | undefined {
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, version = "", traceId = "", parentId = "", flags = "", rest] = match;
  if (version === "ff") return undefined;
  if (version === VERSION_00 && rest !== undefined) return undefined;
  if (ALL_ZEROS.test(traceId) || ALL_ZEROS.test(parentId)) return undefined;
  return { version, traceId, parentId, flags };
}

function formatTraceparent({ version, traceId, parentId, flags }: Traceparent): string {
  return `${version}-${traceId}-${parentId}-${flags}`;
}

/**
 * The context as kiln stores it: a traceparent that parses (in its four-field form) and a request
 * id of 1-200 printable characters, both trimmed; anything else is dropped, never refused, as a
 * tracer drops a traceparent it cannot read and starts afresh.
 */
export function normalizeContext(input: { traceparent?: unknown; requestId?: unknown } | undefined): {
  traceparent: string | null;
  requestId: string | null;
} {
  const rawParent = typeof input?.traceparent === "string" ? input.traceparent.trim() : "";
  const parsed = rawParent ? parseTraceparent(rawParent) : undefined;
  const rawId = typeof input?.requestId === "string" ? input.requestId.trim() : "";
  const requestId = rawId.length <= MAX_REQUEST_ID_LENGTH && PRINTABLE.test(rawId) ? rawId : null;
  return { traceparent: parsed ? formatTraceparent(parsed) : null, requestId };
}

/** A random span id: 8 bytes of lower-case hex, never all zeros. */
function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString("hex");
    if (!ALL_ZEROS.test(id)) return id;
  }
}

/**
 * The context of a task spawned by a task with `parent`: the same trace id under a new parent
 * span id, written as version 00 with only the sampled flag kept (the other bits are undefined in
 * version 00 and must be zero), and the same request id. A parent without a trace gives none.
 */
export function childContext(parent: { traceparent: string | null; requestId: string | null }): {
  traceparent: string | null;
  requestId: string | null;
} {
  const parsed = parent.traceparent ? parseTraceparent(parent.traceparent) : undefined;
  const sampled = parsed ? Number.parseInt(parsed.flags, 16) & 0x01 : 0;
  const traceparent = parsed
    ? formatTraceparent({
        version: VERSION_00,
        traceId: parsed.traceId,
        parentId: newSpanId(),
        flags: sampled ? "01" : "00",
      })
    : null;
  return { traceparent, requestId: parent.requestId };
}

/** A record's context as the task and the API see it: only the fields it has. */
export function contextOf(task: Pick<TaskRecord, "traceparent" | "requestId">): TaskContext {
  return {
    // typeof: a row altered outside kiln may hold anything, and no read of it may fail.
    ...(typeof task.traceparent === "string" && task.traceparent ? { traceparent: task.traceparent } : {}),
    ...(typeof task.requestId === "string" && task.requestId ? { requestId: task.requestId } : {}),
  };
}
