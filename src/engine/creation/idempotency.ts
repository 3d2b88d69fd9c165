import type { TaskRecord } from "../../store/index.ts";
import { IdempotencyConflictError } from "../errors.ts";

/** JSON with every object's keys sorted, so two equal values give one text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
      const entries = Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries);
    }) ?? "null"
  );
}

/**
 * The earlier task a repeated idempotency key stands for, when the new request is the same
 * one again (same name, same params once defaults are applied); another request under a key
 * already taken is a conflict, not the first task returned as if it answered it.
 */
export function replayOf(existing: TaskRecord, key: string, name: string, params: unknown): TaskRecord {
  if (existing.taskName !== name) {
    throw new IdempotencyConflictError(key, existing, `another task name ("${existing.taskName}")`);
  }
  if (canonicalJson(existing.params) !== canonicalJson(params)) {
    throw new IdempotencyConflictError(key, existing, "other params");
  }
  return existing;
}
