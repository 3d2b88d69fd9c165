import type { RateStart, TaskRecord } from "../../store/index.ts";
import type { StartSource } from "../commit/turn-commits.ts";
import type { Unit } from "../commit/unit.ts";
import type { QueueEntry } from "./scheduler.ts";

export interface DispatchHooks {
  /** False once the manager is stopping: nothing starts then. */
  accepting(): boolean;
  /** True while a run may start now: below the manager's concurrency and the name's limit. */
  canRun(name: string): boolean;
  /** Whether another run of any name fits now (the manager's concurrency). */
  hasFreeSlot(): boolean;
  /**
   * Starts the task's run inside `unit`; its slot is taken before the first await, so the next
   * `hasFreeSlot()` counts it.
   */
  startRun(unit: Unit, id: string, name: string): Promise<void>;
  /** Asks for a commit at the end of this turn that starts what there is room for. */
  requestDispatch(): void;
  /**
   * The newest `perKey` starts per rate key of `name` since `since`, from the store's history:
   * seeds the name's rate window when it is first needed. Absent: windows start empty.
   */
  recentRateStarts?(name: string, since: number, perKey: number): Promise<RateStart[]>;
}

/** What a dispatcher needs of a PENDING task to say why it waits: its id, name, stored keys and runAt. */
export type WaitingTask = Pick<TaskRecord, "id" | "taskName"> &
  Partial<Pick<TaskRecord, "rateKey" | "concurrencyKey" | "runAt">>;

/**
 * What a PENDING task held back by a flow rule shows over its row: why it waits and, when its
 * rate limit holds it, when it may start (its `runAt`). Kept in the dispatcher, not written: it
 * changes at every deferral, and on PostgreSQL a full key's backlog would be rewritten each time.
 */
export interface WaitOverlay {
  reason: string;
  /** The earliest time the task may start (epoch ms); absent when that is not known (a full key, a paused name). */
  runAt?: number;
}

/**
 * Which PENDING task starts next, and when. Two kinds: one node alone on its database keeps the
 * queue in memory (`Dispatcher`); nodes sharing a database claim ready rows from it
 * (`ClaimDispatcher`). The rest of the engine tells either what happened to a task.
 */
export interface TaskDispatch extends StartSource {
  /** Tasks waiting to start, as far as this node knows. */
  readonly size: number;
  /** A task became PENDING (created, resumed, retried, restored). */
  enqueue(task: TaskRecord): void;
  /** Queues the task if the transition that returned it left it PENDING. */
  enqueueIfSet(task: TaskRecord | undefined): void;
  /** The task left PENDING without starting (paused, stopped). */
  remove(id: string): void;
  /** Why a PENDING task waits, and until when if known, when a flow rule holds it back on this node. */
  waitOverlay(task: WaitingTask): WaitOverlay | undefined;
  pauseName(name: string, reason: string): void;
  /** Every paused name with its reason, as the store has them now (a dispatcher that reads pauses from the store). */
  setPausedNames?(names: ReadonlyMap<string, string>): void;
  resumeName(name: string): void;
  /** A run gave back its slot. */
  released(id: string): void;
  /** A task whose start could not be written waits a little before the next try. */
  requeueAfterFailedStart(task: Omit<QueueEntry, "runAt">): void;
  /** A class was registered: tasks of its name may start now. */
  adoptOrphans(name: string): void;
  /** Asks for a dispatch at the end of this turn. */
  request(): void;
  stop(): void;
}
