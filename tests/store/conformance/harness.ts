import type { EventAction, TaskStatus } from "../../../src/index.ts";
import type {
  NewSchedule,
  NewTask,
  NewTaskEvent,
  TaskEventRecord,
  TaskLogRecord,
  TaskRecord,
  TaskStore,
} from "../../../src/store/index.ts";
import { TASK_STATUSES } from "../../../src/task/index.ts";

/** The keys a store under test is opened with. */
export interface KeyOptions {
  encryptionKey?: string;
  decryptionKeys?: string[];
}

/** A column of `tasks` whose stored text a test reads past the store. */
export type RawColumn = "params" | "result" | "error" | "checkpoint" | "progress" | "tags";

/** A fresh, migrated, empty store, with what the tests need to look past it. */
export interface StoreUnderTest {
  store: TaskStore;
  /** The column's text as the database holds it (a ciphertext when encrypted); null for SQL NULL. */
  rawColumn(taskId: string, column: RawColumn): Promise<string | null>;
  /** Puts `text` into the column as the database holds it, past the store: a row altered outside kiln. */
  rawWrite(taskId: string, column: RawColumn, text: string): Promise<void>;
  /** A schedule's params as the database holds them (a ciphertext when encrypted); null for SQL NULL. */
  rawScheduleParams(scheduleId: string): Promise<string | null>;
  /** Puts `text` into a schedule's params as the database holds them, past the store. */
  rawScheduleWrite(scheduleId: string, text: string): Promise<void>;
  /** Another store on the same data, opened with other keys (closed by `dispose`). */
  reopen(options: KeyOptions): Promise<TaskStore>;
  /** Closes every store opened on the data and removes the data. */
  dispose(): Promise<void>;
}

export type MakeStore = (options: KeyOptions) => Promise<StoreUnderTest>;

/** What each part of the suite is given: `open` makes a store that is disposed of after the test. */
export interface SuiteContext {
  open(options?: KeyOptions): Promise<StoreUnderTest>;
}

export const ALL_STATUSES: readonly TaskStatus[] = TASK_STATUSES;

/** A new task as the engine makes one: a UUIDv7 id, PENDING, small params. */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return {
    id: Bun.randomUUIDv7(),
    taskName: "conformance",
    status: "PENDING",
    params: { n: 1 },
    priority: 0,
    runAt: null,
    idempotencyKey: null,
    tags: null,
    ...overrides,
  };
}

/** A new schedule as the service makes one: a cron with every policy set, small params. */
export function newSchedule(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    id: `s-${Bun.randomUUIDv7()}`,
    taskName: "conformance",
    cron: "*/5 * * * *",
    everyMs: null,
    timezone: "Europe/Berlin",
    params: { b: 2, a: [1, "x"] },
    priority: 4,
    tags: ["nightly"],
    misfire: "all",
    backfillMs: 60_000,
    overlap: "queue",
    paused: false,
    source: "api",
    nextRunAt: 1_800_000_000_000,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function event(
  fromStatus: TaskStatus | null,
  toStatus: TaskStatus | null,
  action: EventAction,
  extra: Partial<NewTaskEvent> = {},
): NewTaskEvent {
  return { fromStatus, toStatus, action, reason: null, actor: "kiln", source: null, ...extra };
}

export const createEvent = (status: "PENDING" | "PAUSED" = "PENDING"): NewTaskEvent =>
  event(null, status, "create", { actor: "tester", source: "127.0.0.1" });

/** Creates a task and moves it to `status` (any status, guard on all), as one would by hand. */
export async function createIn(
  store: TaskStore,
  status: TaskStatus,
  overrides: Partial<NewTask> = {},
): Promise<TaskRecord> {
  const task = newTask(overrides);
  const created = await store.createTask(task, createEvent());
  if (status === "PENDING") return created;
  const moved = await store.transition(task.id, ALL_STATUSES, { status }, event("PENDING", status, "start"));
  if (!moved) throw new Error(`could not move ${task.id} to ${status}`);
  return moved;
}

/** Every event of a task, through every page. */
export async function allEvents(store: TaskStore, taskId: string): Promise<TaskEventRecord[]> {
  const events: TaskEventRecord[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await store.listEvents(taskId, { after, limit: 500 });
    events.push(...page.items);
    if (page.nextCursor === null) return events;
    after = page.nextCursor;
  }
}

/** Every log line of a task, through every page. */
export async function allLogs(store: TaskStore, taskId: string): Promise<TaskLogRecord[]> {
  const logs: TaskLogRecord[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await store.listLogs(taskId, { after, limit: 500 });
    logs.push(...page.items);
    if (page.nextCursor === null) return logs;
    after = page.nextCursor;
  }
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** Waits until the clock has moved past `at`, so that what comes next is written at a later millisecond. */
export async function pastMillisecond(at = Date.now()): Promise<number> {
  while (Date.now() <= at) await Bun.sleep(1);
  return Date.now();
}
