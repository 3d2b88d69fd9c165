import type { TaskStatus } from "../task/index.ts";
import type { TaskRecord } from "./records.ts";

/**
 * What holds a PENDING task back (its `awaiting` column) and the rows of `task_dependencies` it
 * waits on: "dependencies", the tasks of its `dependsOn`; "children", the children of its latest
 * `waitFor`.
 */
export type AwaitKind = "dependencies" | "children";

/** A task waited on, as the waiting task reads it: its status, null once it no longer exists. */
export interface AwaitedState {
  id: string;
  status: TaskStatus | null;
}

/** A task's children: how many there are per status, and the first of them in creation order. */
export interface ChildrenSummary {
  total: number;
  counts: Partial<Record<TaskStatus, number>>;
  items: Array<{ id: string; taskName: string; status: TaskStatus }>;
}

/** What a task's own page shows beside its row (`taskTree`). */
export interface TaskTreeReads {
  /** The ids its `dependsOn` named, in that order. */
  dependsOn: string[];
  /** The ids its latest `waitFor` named, in that order. */
  waitingFor: string[];
  children: ChildrenSummary;
}

/** A task's row and what its page shows beside it (`taskWithTree`). */
export interface TaskWithTree extends TaskTreeReads {
  task: TaskRecord;
}

/** The writes (and the reads a decision needs) of dependencies, inside a transaction. */
export interface DependencyWrites {
  /**
   * Records what `taskId` waits on. For "children" the rows replace the task's earlier wait: they
   * are what its latest `waitFor` named.
   */
  addAwaited(taskId: string, kind: AwaitKind, ids: readonly string[]): Promise<void>;
  /**
   * The tasks `taskId` waits on (of `kind`) with their statuses. Inside a transaction on
   * PostgreSQL their rows are locked (FOR SHARE) until it ends: a task ending meanwhile either
   * waits for this transaction, then sees its rows, or is seen here as ended.
   */
  awaitedStates(taskId: string, kind: AwaitKind): Promise<AwaitedState[]>;
  /** The PENDING tasks held back (awaiting) by one of `ids`. */
  awaitingOn(ids: readonly string[]): Promise<string[]>;
}

/** Reads of dependencies outside any transaction. */
export interface DependencyReads {
  /** Those of `ids` that name a task. */
  existingIds(ids: readonly string[]): Promise<string[]>;
  /**
   * Up to `limit` PENDING tasks held back whose wait may be over: every task they wait on has
   * ended, or one of their dependencies did not finish and their policy does not run anyway. A
   * sweep over these makes up for a decision lost in a crash.
   */
  awaitingToExamine(limit: number): Promise<string[]>;
  /** Whether any task is held back (`awaiting` set), in any status. */
  hasAwaiting(): Promise<boolean>;
  /** The ids a task names in its `dependsOn`, or waits for in its latest `waitFor`. */
  awaitedIds(taskId: string, kind: AwaitKind): Promise<string[]>;
  /** The children of `parentId` (tasks it spawned): counts per status and the first `limit`. */
  childrenOf(parentId: string, limit: number): Promise<ChildrenSummary>;
  /**
   * `awaitedIds` of both kinds and `childrenOf` together, as one read: what a task's page shows
   * beside its row. Most tasks wait on nothing and spawn nothing; a store may tell that first.
   */
  taskTree(taskId: string, childLimit: number): Promise<TaskTreeReads>;
  /**
   * The task with exactly this id and its `taskTree`, read together (on SQLite in one read
   * transaction, which costs about as much as one statement of its own; on PostgreSQL in one
   * round trip); undefined when no task has this id.
   */
  taskWithTree(taskId: string, childLimit: number): Promise<TaskWithTree | undefined>;
}
