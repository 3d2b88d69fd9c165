import type { TObject } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { httpError } from "../errors.ts";
import { describeIssue, fieldName } from "../validation.ts";
import { BulkByFilter, BulkByIds } from "./schemas.ts";

const ALLOWED = new Set([...Object.keys(BulkByIds.properties), ...Object.keys(BulkByFilter.properties)]);
const MAX_ISSUES = 20;

function invalid(message: string, issues: { path: string; message: string }[]): never {
  throw httpError("validation", 422, `invalid body: ${message}`, { in: "body", issues });
}

/** The issues of `body` against one shape, each naming its field. */
function check(shape: TObject, body: unknown): void {
  const issues = [...Value.Errors(shape, body)].slice(0, MAX_ISSUES);
  const first = issues[0];
  if (!first) return;
  invalid(
    describeIssue(first),
    issues.map((issue) => ({ path: fieldName(issue.path), message: describeIssue(issue) })),
  );
}

/**
 * A transform hook for POST /tasks/bulk. The body is one of two shapes, and a failed union
 * says only that neither fits; this picks the shape by the field given (ids or filter) and
 * checks against it, so the 422 names the field that is wrong.
 */
export function bulkBodyCheck({ body }: { body: unknown }): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    invalid("the body must be a JSON object", [{ path: "", message: "must be a JSON object" }]);
  }
  const fields = Object.keys(body);
  const unknown = fields.filter((key) => !ALLOWED.has(key));
  if (unknown.length > 0) {
    const issues = unknown.map((key) => ({ path: key, message: `"${key}" is not an allowed field` }));
    invalid(
      `${issues.map((issue) => issue.message).join("; ")} (allowed: ${[...ALLOWED].join(", ")})`,
      issues,
    );
  }
  const byIds = "ids" in body;
  const byFilter = "filter" in body;
  if (byIds === byFilter) {
    const message = byIds
      ? "give either ids or filter, not both"
      : "give ids (the tasks to act on) or filter (which tasks: status, name, tag)";
    invalid(message, [{ path: byIds ? "filter" : "ids", message }]);
  }
  if (byIds && "cursor" in body) {
    invalid("cursor goes with filter, not with ids", [
      { path: "cursor", message: "cursor goes with filter" },
    ]);
  }
  check(byIds ? BulkByIds : BulkByFilter, body);
}
