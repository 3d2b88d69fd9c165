import type { ClusterTuning } from "../cluster/tuning.ts";
import type { ScheduleClock } from "../schedules/clock.ts";
import type { ChildrenSummary, Durability, KeyMaterial, TaskRecord, TaskStore } from "../store/index.ts";
import type { TaskClass, TaskContext } from "../task/index.ts";
import type { Logger } from "./logger.ts";
import type { RetentionTuning } from "./upkeep/retention.ts";

export interface TaskManagerOptions {
  /** Path of the SQLite file (created if missing), opened as a `SqliteTaskStore`; or give `store`. */
  db?: string;
  /**
   * A store you opened yourself, on any database the store port has (`SqliteTaskStore`,
   * `PostgresTaskStore`); it is yours to close after `shutdown()`. Give it or `db`, not both.
   */
  store?: TaskStore;
  /** Tasks running at once, over all names (default: the number of CPU cores, at least 2). */
  concurrency?: number;
  /** How long a stop may wait for a checkpoint before the worker is terminated (default 5 s). */
  stopGraceMs?: number;
  /** How long shutdown waits for running tasks to pause at a checkpoint (default 10 s). */
  shutdownGraceMs?: number;
  /** Paused tasks that keep their worker (and their stack); older ones give it back (default 16). */
  maxParkedWorkers?: number;
  /** How often buffered progress, logs and checkpoints are written (default 100 ms). */
  telemetryIntervalMs?: number;
  /** The worker entrypoint (default: kiln's own, which imports each task's module). */
  workerUrl?: string | URL;
  /** Task classes the worker entrypoint has built in, so they need no module to import. */
  preloadedTasks?: readonly TaskClass[];
  /**
   * Memory cap in MB of each run whose class sets no `memoryLimitMb` (default: none). A run over
   * it fails with "memory limit exceeded" and is not retried.
   */
  taskMemoryLimitMb?: number;
  /**
   * The command that starts a task process for classes with `isolation = "process"` (default:
   * this Bun running kiln's own task-process entrypoint, which imports each task's module).
   */
  processCommand?: readonly string[];
  logger?: Logger;
  /**
   * 32 bytes (or their base64 / 64-hex text): params, results and checkpoints are stored
   * encrypted with AES-256-GCM. Only with `db` as a path; a store you open takes its own keys.
   */
  encryptionKey?: KeyMaterial;
  /** Former encryption keys, kept to read the rows written with them. */
  decryptionKeys?: readonly KeyMaterial[];
  /**
   * What an acknowledged write survives (default "normal"): "normal" survives a crash of the
   * process, "full" (an fsync at each commit, `PRAGMA synchronous = FULL`) a power loss too. Only
   * with `db` as a path; a store you open takes its own.
   */
  durability?: Durability;
  /**
   * Directories the built-in file tasks (copy-file, checksum-file, walk-directory) may use; paths
   * outside them, symlinks resolved, are refused. None by default: those tasks are disabled.
   */
  fileRoots?: readonly string[];
  /**
   * Files no file task may touch even inside a root (key and token files, task files); the
   * database and its -wal, -shm and lock files are protected without being listed.
   */
  protectedFiles?: readonly string[];
  /** Tasks that ended (FINISHED, FAILED, STOPPED) longer ago than this are deleted with their history. */
  retainMs?: number;
  /** Pacing of the retention pruner (how often, batch size); defaults suit a service. */
  retention?: Partial<RetentionTuning>;
  /**
   * Largest result a run may return, in bytes of JSON (default 1 MiB). A larger one fails the
   * task as `ResultTooLarge`, without retry.
   */
  maxResultBytes?: number;
  /**
   * Largest checkpoint state, in bytes of JSON (default 1 MiB). The `checkpoint()` call that
   * sends a larger one throws `TaskValueError`, and the run fails.
   */
  maxCheckpointBytes?: number;
  /** Longest log line, in bytes of UTF-8 (default 16 KiB). A longer one is cut, with a marker. */
  maxLogLineBytes?: number;
  /** The time and timer schedules fire by (default: the system's); tests pass their own. */
  scheduleClock?: ScheduleClock;
  /**
   * This node's name among the nodes sharing a PostgreSQL database (default `<host>-<pid>`); its
   * id adds a fresh suffix on every start.
   */
  nodeName?: string;
  /** Lease, heartbeat, rescue and polling intervals of the cluster protocol (PostgreSQL only). */
  cluster?: Partial<ClusterTuning>;
}

export interface CreateOptions {
  priority?: number;
  /** Do not start before this time (epoch ms or a Date). */
  runAt?: number | Date;
  /** A second create with the same key returns the first task instead of a new one. */
  idempotencyKey?: string;
  tags?: string[];
  /** Create it PAUSED: it runs only once resumed. */
  paused?: boolean;
  /**
   * Ids of tasks that must FINISH before this one starts; it waits PENDING until then (at most
   * 1,000; each must exist). An unknown id is a 422.
   */
  dependsOn?: readonly string[];
  /** What it does when a dependency fails or is stopped: "fail" (default), "stop" or "run" anyway. */
  onDependencyFailure?: "fail" | "stop" | "run";
  /** Recorded in the history as who created it (kiln's API records the token's label). */
  actor?: string | null;
  /** Recorded in the history as where the request came from (kiln's API records the client's address). */
  source?: string | null;
  /**
   * The request context to record with the task and hand to it as `this.context` (kiln's API
   * passes the request's `traceparent` and `x-request-id` headers). A traceparent that is not
   * valid W3C Trace Context, or a request id that is not 1-200 printable characters, is dropped.
   */
  context?: TaskContext;
}

/** A task with what it waits for and the tasks it spawned (`findWithTree`). */
export interface TaskTree {
  task: TaskRecord;
  /** Its `dependsOn`. */
  dependsOn: string[];
  /** The children named by its latest `this.waitFor()`. */
  waitingFor: string[];
  children: ChildrenSummary;
}

export interface CreateResult {
  task: TaskRecord;
  /** False when an earlier task with the same idempotency key was returned. */
  created: boolean;
}

export interface ControlOptions {
  /** Recorded in the history as who asked (kiln's API records the token's label). */
  actor?: string | null;
  /** Recorded in the history as where the request came from (kiln's API records the client's address). */
  source?: string | null;
  reason?: string | null;
}

export interface ControlResult {
  task: TaskRecord;
  /** True when the request waits for the task to acknowledge it at a checkpoint (HTTP 202). */
  pending: boolean;
}

export interface ManagerStats {
  /** Runs holding a concurrency slot. */
  running: number;
  /** Paused tasks that keep their worker (and stack) while they wait to be resumed. */
  parked: number;
  queued: number;
  workers: number;
  idleWorkers: number;
  concurrency: number;
}
