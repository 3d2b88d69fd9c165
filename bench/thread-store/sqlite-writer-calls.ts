import type { SqliteSyncStore } from "../../src/store/sqlite.ts";
import type { TransactionCommand } from "../../src/store/sqlite-transactions.ts";

/**
 * The calls the SQLite writer thread makes on its store, by name: every write of the port, and
 * the reads a transaction makes (they must see its own writes). Each takes the call's arguments
 * as they arrived (`thread-values.ts` made them whole again).
 */
// biome-ignore lint/suspicious/noExplicitAny: the arguments arrive decoded from JSON; each entry hands them to the method it names, and sqlite-thread-store.ts sends each call that method's arguments.
type Call = (store: SqliteSyncStore, args: any[]) => unknown;

export const WRITER_CALLS = {
  migrate: (store) => store.migrate(),
  control: (store, [command, name]) => store.transactionControl(command as TransactionCommand, name),
  /** Commits (or rolls back) the transaction opened by hand; a failed COMMIT rolls it back. */
  end: (store, [how]) => {
    try {
      if (how === "commit") store.transactionControl("commit");
      else if (store.inTransaction) store.transactionControl("rollback");
    } catch (error) {
      if (store.inTransaction) store.transactionControl("rollback");
      throw error;
    }
  },
  createTask: (store, [task, event]) => store.createTask(task, event),
  transition: (store, [id, from, patch, event]) => store.transition(id, from, patch, event),
  updateTask: (store, [id, patch, event]) => store.updateTask(id, patch, event),
  writeTelemetry: (store, [batch]) => store.writeTelemetry(batch),
  deleteTask: (store, [id]) => store.deleteTask(id),
  deleteEndedBefore: (store, [cutoff, limit]) => store.deleteEndedBefore(cutoff, limit),
  getTask: (store, [id]) => store.getTask(id),
  findByIdempotencyKey: (store, [key]) => store.findByIdempotencyKey(key),
  createSchedule: (store, [schedule]) => store.schedules.createSchedule(schedule),
  updateSchedule: (store, [id, patch]) => store.schedules.updateSchedule(id, patch),
  deleteSchedule: (store, [id]) => store.schedules.deleteSchedule(id),
  getSchedule: (store, [id]) => store.schedules.getSchedule(id),
  recordScheduleFire: (store, [fire]) => store.schedules.recordScheduleFire(fire),
  pauseTaskType: (store, [pause]) => store.schedules.pauseTaskType(pause),
  resumeTaskType: (store, [name]) => store.schedules.resumeTaskType(name),
  addAwaited: (store, [taskId, kind, ids]) => store.dependencies.addAwaited(taskId, kind, ids),
  awaitedStates: (store, [taskId, kind]) => store.dependencies.awaitedStates(taskId, kind),
  awaitingOn: (store, [ids]) => store.dependencies.awaitingOn(ids),
} satisfies Record<string, Call>;

export type WriterCall = keyof typeof WRITER_CALLS;

/** One call sent to the writer: its name and its arguments (encoded). */
export type WriterCommand = [call: WriterCall, args: unknown[]];

/** A call's outcome: `[true, value]` or `[false, error]` (both encoded). */
export type WriterOutcome = [ok: true, value: unknown] | [ok: false, error: unknown];

/** A batch of calls goes as its commands' JSON text (see thread-values.ts); the rest as objects. */
export type ToWriter = { type: "open"; options: unknown } | { type: "close" } | string;

/** The outcomes of a batch come back as their JSON text, in the order of its commands. */
export type FromWriter =
  | string
  | { type: "opened" }
  | { type: "failed"; error: unknown }
  | { type: "closed"; error?: unknown }
  /** The writer's background checkpoints failed and its commits checkpoint again. */
  | { type: "checkpoint-fallback"; error: string };
