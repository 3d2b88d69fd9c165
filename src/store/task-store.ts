import type { TaskStatus } from "../task/index.ts";
import type { ClusterStore } from "./cluster-store.ts";
import type { DependencyReads, DependencyWrites } from "./dependency-records.ts";
import type { RateStart } from "./rate-window.ts";
import type {
  ListTasksQuery,
  NewTask,
  NewTaskEvent,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskPatch,
  TaskRecord,
  TelemetryBatch,
} from "./records.ts";
import type {
  NewSchedule,
  NewScheduleFire,
  ScheduleFireRecord,
  SchedulePatch,
  ScheduleRecord,
} from "./schedule-records.ts";
import type { StorageFault } from "./storage-fault.ts";
import type { DeletedTask, EndedCount, HistoryQuery } from "./store.ts";
import type { TaskTypePause } from "./task-type-pauses.ts";

/**
 * Whose run a write is about: the node that claimed the task and the epoch of that claim. A
 * write fenced with it changes nothing once the task has been claimed again (its lease expired
 * and another node took it), so a node cut off past its lease can never end or checkpoint a
 * run that is no longer its own.
 */
export interface RunFence {
  node: string;
  epoch: number;
}

/** Ready tasks for a node to take: PENDING, due, of a name it runs and that is not paused. */
export interface ClaimRequest {
  node: string;
  /** The lease each claimed task starts with (the database's clock). */
  leaseMs: number;
  /** At most this many. */
  limit: number;
  /** Names the node has classes for (the claim takes no other). */
  names: readonly string[];
  /** Epoch ms: the start time written. */
  now: number;
}

/** A task's stored flow keys. */
export interface TaskKeyColumns {
  rateKey: string | null;
  concurrencyKey: string | null;
}

/** A claim of one name whose class has a rate limit or a per-key concurrency limit. */
export interface FlowClaimRequest extends ClaimRequest {
  name: string;
  /** At most this many runs of the name at once (`static concurrency = N`); null for none. */
  classLimit: number | null;
  /** At most this many runs per concurrency key at once; null for none. */
  keyLimit: number | null;
  /** At most `count` starts per rate key in any `perMs`; null for none. */
  rate: { count: number; perMs: number } | null;
  /** How many ready rows (of keys with room) one claim looks at, at most. */
  candidates: number;
}

/** What a flow claim took, and what holds the name's other tasks back after it. */
export interface FlowClaim {
  tasks: TaskRecord[];
  /** Concurrency keys with every slot held. */
  fullKeys: string[];
  /** Rate keys whose window is full, each with the earliest time a start may be (database clock). */
  ratedKeys: Array<[key: string, notBefore: number]>;
  /** The database's clock at the claim (epoch ms). */
  now: number;
}

/** Which database a store talks to. */
export type StoreDialect = "sqlite" | "postgres";

/**
 * The writes a store makes, and the read a write may need to decide. On the store itself each
 * call is a transaction of its own; on the `tx` handed to `transaction()`, the calls join that
 * transaction and are committed (or rolled back) together.
 */
export interface TaskWrites extends DependencyWrites {
  /** Inserts a task and its "create" event. Rejects on a duplicate id or idempotency key. */
  createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord>;
  /**
   * Moves a task whose status is one of `from`, applying `patch` and appending `event`.
   * Resolves undefined (and writes nothing) when the guard does not hold, so a late or duplicate
   * message can never move a task backwards.
   */
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
    /** Only while the task is still this node's claim (PostgreSQL; SQLite has one node and needs none). */
    fence?: RunFence,
  ): Promise<TaskRecord | undefined>;
  /**
   * Claims up to `limit` ready tasks for a node, in priority then id order, skipping rows another
   * node is claiming: each becomes RUNNING with the node, a new lease epoch and a lease, and a
   * "start" event. Only on a store shared by nodes.
   */
  claimReady?(request: ClaimRequest): Promise<TaskRecord[]>;
  /**
   * As `claimReady`, for one name whose runs are capped across all nodes at `classLimit`: the
   * claims of that name take turns (a lock held until the transaction ends), so the cap holds.
   */
  claimLimited?(request: ClaimRequest & { name: string; classLimit: number }): Promise<TaskRecord[] | null>;
  /**
   * As `claimLimited`, for one name with flow rules, each counted across all nodes from the
   * database: its per-key concurrency from the RUNNING rows' stored keys, its rate limit from its
   * recent starts. Answers what it claimed and what holds the name's other tasks back.
   * Both answer null, claiming nothing, while another claim of the name holds its lock.
   */
  claimFlow?(request: FlowClaimRequest): Promise<FlowClaim | null>;
  /**
   * Up to `limit` PENDING or PAUSED tasks of `name` stored without keys (created before their
   * class had a keyed rule), locked until the transaction ends, for `setTaskKeys`.
   */
  unkeyedTasks?(name: string, limit: number): Promise<TaskRecord[]>;
  /** Stores the keys of tasks that had none. */
  setTaskKeys?(keys: ReadonlyArray<{ id: string } & TaskKeyColumns>): Promise<void>;
  /** Up to `limit` RUNNING tasks whose lease has expired, locked until the transaction ends. */
  lockExpiredLeases?(limit: number): Promise<TaskRecord[]>;
  /** Changes columns without a status change, with an optional event. Undefined if the task is gone. */
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined>;
  /**
   * Writes a tick's progress, checkpoints and log lines; a line or value for a deleted task is
   * dropped, and so is a progress or checkpoint whose fence (in `batch.fences`) no longer holds.
   */
  writeTelemetry(batch: TelemetryBatch): Promise<void>;
  /** Deletes a task in a final status with its events and logs; false if absent or live. */
  deleteTask(id: string): Promise<boolean>;
  /**
   * Deletes at most `limit` tasks in FINISHED, FAILED or STOPPED whose end time is before
   * `cutoff` (epoch ms), with their events and logs. Resolves with what it deleted.
   */
  deleteEndedBefore(cutoff: number, limit: number): Promise<DeletedTask[]>;
  getTask(id: string): Promise<TaskRecord | undefined>;
  /** The task created with this idempotency key; inside a transaction, one created earlier in it included. */
  findByIdempotencyKey(key: string): Promise<TaskRecord | undefined>;
  /** Inserts a schedule. Rejects on a duplicate id. */
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord>;
  /** Changes a schedule's columns; undefined when it is gone. */
  updateSchedule(id: string, patch: SchedulePatch): Promise<ScheduleRecord | undefined>;
  /** Deletes a schedule with its fires; false when it was not there. */
  deleteSchedule(id: string): Promise<boolean>;
  /**
   * A schedule. With `lock` inside a transaction, its row is locked until the transaction ends
   * (PostgreSQL's FOR UPDATE; SQLite's write transactions hold the whole file already), so that
   * two firings of the same schedule take turns.
   */
  getSchedule(id: string, options?: { lock?: boolean }): Promise<ScheduleRecord | undefined>;
  /**
   * Records a fire time of a schedule, unless that (schedule, fire time) already has one: then
   * nothing is written and it resolves false. This is what makes a fire happen at most once.
   */
  recordScheduleFire(fire: NewScheduleFire): Promise<boolean>;
  /**
   * Runs `fn` as a unit inside the current transaction (a savepoint): if it rejects, its writes
   * are undone and the rejection is passed on, while the rest of the transaction goes on. On the
   * store itself it is simply a transaction.
   */
  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T>;
}

/**
 * Everything kiln persists goes through this port; `src/store/` is the only place with SQL.
 * Two stores implement it, `SqliteTaskStore` and `PostgresTaskStore`, and both pass the same
 * conformance suite (`tests/store/conformance/`).
 *
 * Group commit is the caller's: the engine gathers the writes of one event-loop turn and makes
 * them in one `transaction()`, so they cost one commit, not one each.
 */
export interface TaskStore extends TaskWrites, DependencyReads {
  readonly dialect: StoreDialect;
  /** Where the data lives, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** Applies every migration the database lacks (on PostgreSQL, under an advisory lock). */
  migrate(): Promise<void>;
  /**
   * Runs `fn` with every write made through `tx` in one transaction, committed when `fn`
   * resolves and rolled back if it rejects. A call on the store itself never joins it.
   */
  transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T>;
  /**
   * True when statements sent on a transaction without waiting for one another travel together
   * (PostgreSQL pipelines them on the connection): the engine then begins independent writes of
   * one transaction before awaiting any. A store whose statements are function calls gains
   * nothing from it and leaves it out.
   */
  readonly pipelines?: boolean;
  /** The statements of the cluster protocol, on a store several nodes share (PostgreSQL). */
  readonly cluster?: ClusterStore;
  /** Up to `limit` ids that start with `prefix`, in id order: a range read of the primary key. */
  idsWithPrefix(prefix: string, limit: number): Promise<string[]>;
  /** Newest first, keyset-paginated on the id (UUIDv7, so creation order). */
  listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>>;
  /** Tasks in PENDING, RUNNING or PAUSED, oldest first: what start-up restores. */
  listActive(): Promise<TaskRecord[]>;
  /**
   * The newest `perKey` starts of each rate key of `name` after `since`, oldest first, from the
   * history: what seeds a rate window on a store one kiln has to itself (see rate-window.ts).
   * Absent where the claims count the starts in the database (PostgreSQL).
   */
  recentRateStarts?(name: string, since: number, perKey: number): Promise<RateStart[]>;
  /** Every schedule, in id order. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Pauses a task name; pausing it again replaces who asked, when, and whether runs pause too. */
  pauseTaskType(pause: TaskTypePause): Promise<TaskTypePause>;
  /** Resumes a task name: false when it was not paused. */
  resumeTaskType(taskName: string): Promise<boolean>;
  /** The paused task names, in name order. */
  listTaskTypePauses(): Promise<TaskTypePause[]>;
  /** A schedule's latest `limit` fires, newest first. */
  listScheduleFires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]>;
  /** Fires of overlap "queue" whose task is still PAUSED waiting for an earlier one, oldest first. */
  listQueuedFires(): Promise<ScheduleFireRecord[]>;
  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>>;
  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>>;
  /**
   * Rejects with `UndecryptableValueError` when the newest tasks or any schedule cannot be read
   * with the keys the store was given (encrypted rows and no key, or a key that is not configured).
   */
  verifyReadable(): Promise<void>;
  countByStatus(): Promise<Record<TaskStatus, number>>;
  /**
   * Up to `limit` tasks' id, status and name, in id order, after `afterId` (from the start when
   * null): a full count in small steps, each a quick read of the primary key.
   */
  scanStatusAndName(
    afterId: string | null,
    limit: number,
  ): Promise<Array<{ id: string; status: TaskStatus; name: string }>>;
  /**
   * Transitions into FINISHED, FAILED or STOPPED at or after `since` (epoch ms), counted per
   * final status and per `bucketMs`-wide time bucket (`bucket` is the bucket's start).
   */
  countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]>;
  /** Quick checks that the database is whole, as far as can be told cheaply (SQLite: a file's edges). */
  probeIntegrity?(): Promise<void>;
  /**
   * For a store on a file: a fault once the file at its path is no longer the one it opened,
   * undefined while it is. Synchronous and cheap enough for every commit.
   */
  fileProblem?(thorough?: boolean): StorageFault | undefined;
  /**
   * The storage fault an error of this store's driver means (a full disk, a lost connection),
   * or undefined for an error of the statement itself (a constraint, a bug).
   */
  faultOf(error: unknown): StorageFault | undefined;
  close(): Promise<void>;
}
