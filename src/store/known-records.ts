import { FINAL_STATUSES, type TaskStatus } from "../task/index.ts";
import { JsonText, type NewTaskColumns, type TaskPatch, type TaskRecord } from "./records.ts";
import type { SqlValue } from "./task-rows.ts";

/** The JSON columns a patch may set: their values read back as their JSON text parsed. */
const JSON_PATCH_FIELDS = new Set<string>(["result", "error", "progress", "checkpoint"]);

const FINAL = new Set<TaskStatus>(FINAL_STATUSES);

/**
 * About how much heap the records kept beside the running tasks' may take: the tasks created or
 * moved most recently, which are the ones the engine writes next. A bound, so that a backlog
 * never grows the heap with it; a running task is kept whatever it weighs (its end comes next).
 */
export const KNOWN_RECORDS_BYTES = 8 * 1024 * 1024;

/** About what a record weighs on the heap: its 33 fields, and its params parsed. */
export function knownRecordWeight(paramsChars: number): number {
  return 600 + 2 * paramsChars;
}

/** A value as it reads back from its JSON column: what `JSON.stringify` keeps of it, or null. */
function asStored(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof JsonText) return JSON.parse(value.text);
  if (typeof value === "string" || typeof value === "boolean") return value;
  const json = JSON.stringify(value);
  return json === undefined ? null : JSON.parse(json);
}

/**
 * The row an INSERT of `task` at `now` makes: its columns as given, the rest at their defaults.
 * `storedParams`: the params column's text as bound, when it is plain JSON (no key).
 */
export function createdRecord(task: NewTaskColumns, now: number, storedParams?: SqlValue): TaskRecord {
  return {
    id: task.id,
    taskName: task.taskName,
    status: task.status,
    statusReason: null,
    params: typeof storedParams === "string" ? JSON.parse(storedParams) : asStored(task.params),
    result: null,
    error: null,
    progress: null,
    checkpoint: null,
    attempt: 1,
    retries: 0,
    priority: task.priority,
    runAt: task.runAt ?? null,
    requestedAction: null,
    idempotencyKey: task.idempotencyKey ?? null,
    tags: asStored(task.tags) as string[] | null,
    startTime: null,
    endTime: null,
    lastRunTime: null,
    createdAt: now,
    updatedAt: now,
    traceparent: task.traceparent ?? null,
    requestId: task.requestId ?? null,
    parentId: task.parentId ?? null,
    activeMs: 0,
    scheduleId: task.scheduleId ?? null,
    scheduleFireTime: task.scheduleFireTime ?? null,
    node: null,
    leaseEpoch: 0,
    rateKey: task.rateKey ?? null,
    concurrencyKey: task.concurrencyKey ?? null,
    dependencyPolicy: task.dependencyPolicy ?? null,
    awaiting: task.awaiting ?? null,
  };
}

/**
 * The record a guarded UPDATE of `known` by `patch` at `now` leaves, computed as SQLite does it
 * (see `TaskRowCodec.setClause`): the columns set, `active_ms` added to, a start time filling
 * only an empty column, `updated_at`. Undefined for a patch whose outcome only SQL knows
 * (`completeProgress` reads the stored progress). `jsonTexts`: the plain JSON text bound for a JSON
 * column, parsed rather than the value encoded again (see `TaskRowCodec.setClause`).
 */
export function patchedRecord(
  known: TaskRecord,
  patch: TaskPatch,
  now: number,
  jsonTexts?: Partial<Record<keyof TaskPatch, string>>,
): TaskRecord | undefined {
  if (patch.completeProgress) return undefined;
  const next: Record<string, unknown> = { ...known };
  for (const field of Object.keys(patch) as (keyof TaskPatch)[]) {
    const value = patch[field];
    if (value === undefined) continue;
    if (field === "addActiveMs") next.activeMs = known.activeMs + Math.max(0, Math.round(value as number));
    else if (field === "startTime") next.startTime = value === null ? null : (known.startTime ?? value);
    else if (JSON_PATCH_FIELDS.has(field)) {
      const text = jsonTexts?.[field];
      next[field] = text === undefined ? asStored(value) : JSON.parse(text);
    } else next[field] = value;
  }
  next.updatedAt = now;
  return next as unknown as TaskRecord;
}

/**
 * The rows this store wrote last, as records, so that a transition of one of them is an UPDATE
 * without `RETURNING *`: SQLite then neither builds the 33-column row nor kiln parses it back
 * (about a tenth of the engine thread's time per no-op task). Only right while every write of
 * a task's row goes through this store, so every other write forgets the task, and a rollback
 * (whose writes the records may hold) forgets them all.
 */
export class KnownRecords {
  readonly #records = new Map<string, { record: TaskRecord; weight: number }>();
  #weight = 0;

  get(id: string): TaskRecord | undefined {
    return this.#records.get(id)?.record;
  }

  /**
   * Keeps what a write left, or forgets it: an ended task is seldom written again. `paramsChars`:
   * the length of the row's stored params, for its weight.
   */
  remember(record: TaskRecord, paramsChars: number): void {
    this.#keep(record, knownRecordWeight(paramsChars));
  }

  /** What a write left of a row kept already (`get` found it): its params, so its weight, are the same. */
  replace(record: TaskRecord): void {
    const kept = this.#records.get(record.id);
    if (kept) this.#keep(record, kept.weight);
  }

  #keep(record: TaskRecord, weight: number): void {
    this.forget(record.id);
    if (FINAL.has(record.status)) return;
    if (record.status !== "RUNNING" && this.#weight + weight > KNOWN_RECORDS_BYTES) return;
    this.#records.set(record.id, { record, weight });
    this.#weight += weight;
  }

  forget(id: string): void {
    const kept = this.#records.get(id);
    if (!kept) return;
    this.#records.delete(id);
    this.#weight -= kept.weight;
  }

  forgetAll(): void {
    this.#records.clear();
    this.#weight = 0;
  }

  /** The records kept, and about what they weigh. */
  get size(): { records: number; bytes: number } {
    return { records: this.#records.size, bytes: this.#weight };
  }
}
