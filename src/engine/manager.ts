import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import {
  type DatabaseOwnerLock,
  type DurabilitySettings,
  describeFault,
  type HistoryQuery,
  type ListTasksQuery,
  type Page,
  SqliteSyncStore,
  type SyncTaskStore,
  type TaskEventRecord,
  type TaskLogRecord,
  type TaskRecord,
} from "../store/index.ts";
import { isTaskClass, type TaskClass, type TaskStatus } from "../task/index.ts";
import { type BulkAction, type BulkResult, type BulkTarget, runBulk } from "./bulk.ts";
import { CreateBatch } from "./create-batch.ts";
import { Dispatcher } from "./dispatcher.ts";
import { IllegalTransitionError, KilnError, NotAcceptingError, TaskNotFoundError } from "./errors.ts";
import { EventHub, type ManagerListener } from "./events.ts";
import { resolveFileAccess } from "./file-access.ts";
import { TaskHandle } from "./handle.ts";
import { findByIdOrPrefix } from "./id-prefix.ts";
import type { ControlAction } from "./lifecycle.ts";
import { stderrLogger } from "./logger.ts";
import type {
  ControlOptions,
  ControlResult,
  CreateOptions,
  CreateResult,
  ManagerStats,
  TaskManagerOptions,
} from "./manager-options.ts";
import { checkMemoryLimitMb } from "./memory-limit.ts";
import { MessageCommits } from "./message-commit.ts";
import { type LogObserver, Observers, type ProgressObserver, type TransitionObserver } from "./observers.ts";
import { openStore } from "./open-store.ts";
import { WorkerPool } from "./pool.ts";
import { type RegisteredTask, TaskRegistry } from "./registry.ts";
import { restoreActiveTasks } from "./restore.ts";
import { RetentionPruner } from "./retention.ts";
import { RunExecutor } from "./run-executor.ts";
import { RunSettlement } from "./run-settlement.ts";
import { SelfRestarts } from "./self-restarts.ts";
import { GuardedStore } from "./storage-guard.ts";
import { TaskControl } from "./task-control.ts";
import { type StatusNameCount, TaskCounts } from "./task-counts.ts";
import { TaskCreation } from "./task-creation.ts";
import { TelemetryBuffer } from "./telemetry.ts";
import { Transitions } from "./transitions.ts";
import { resolveValueLimits } from "./value-limits.ts";
import { WriteRetry } from "./write-retry.ts";

type State = "new" | "running" | "stopping" | "stopped";

/**
 * The one owner of live task state: registry, scheduler, worker pool and store. Create one,
 * register task classes, `start()` it (migrate, restore, schedule) and `shutdown()` it.
 */
export class TaskManager {
  readonly store: SyncTaskStore;
  readonly #guard: GuardedStore;
  readonly #counts: TaskCounts;
  readonly #commits: MessageCommits;
  readonly #creates: CreateBatch<CreateResult>;
  readonly #creation: TaskCreation;
  readonly registry = new TaskRegistry();
  readonly concurrency: number;
  readonly #options: Required<
    Omit<
      TaskManagerOptions,
      | "db"
      | "preloadedTasks"
      | "encryptionKey"
      | "decryptionKeys"
      | "retainMs"
      | "retention"
      | "taskMemoryLimitMb"
      | "maxResultBytes"
      | "maxCheckpointBytes"
      | "maxLogLineBytes"
      | "durability"
      | "fileRoots"
      | "protectedFiles"
    >
  >;
  readonly #memoryLimitMb: number | undefined;
  readonly #preloaded: ReadonlySet<TaskClass>;
  readonly #ownsStore: boolean;
  readonly #hub: EventHub;
  readonly #observers: Observers;
  readonly #telemetry: TelemetryBuffer;
  readonly #pool: WorkerPool;
  readonly #transitions: Transitions;
  readonly #settlement: RunSettlement;
  readonly #selfRestarts = new SelfRestarts();
  readonly #dispatcher: Dispatcher;
  readonly #executor: RunExecutor;
  readonly #taskControl: TaskControl;
  readonly #writes: WriteRetry;
  #state: State = "new";
  #shutdown: Promise<void> | undefined;
  readonly #ownerLock: DatabaseOwnerLock | undefined;
  readonly #retention: RetentionPruner | undefined;

  constructor(options: TaskManagerOptions) {
    const concurrency = options.concurrency ?? Math.max(2, availableParallelism());
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("concurrency must be an integer ≥ 1");
    this.concurrency = concurrency;
    this.#options = {
      concurrency,
      stopGraceMs: options.stopGraceMs ?? 5_000,
      shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
      maxParkedWorkers: options.maxParkedWorkers ?? 16,
      telemetryIntervalMs: options.telemetryIntervalMs ?? 100,
      workerUrl: options.workerUrl ?? new URL("../worker/main.ts", import.meta.url),
      processCommand: options.processCommand ?? [
        process.execPath,
        fileURLToPath(new URL("../worker/process-main.ts", import.meta.url)),
      ],
      logger: options.logger ?? stderrLogger,
    };
    this.#memoryLimitMb = checkMemoryLimitMb(options.taskMemoryLimitMb);
    const limits = resolveValueLimits(options);
    this.#preloaded = new Set(options.preloadedTasks ?? []);
    this.#ownsStore = typeof options.db === "string";
    const logger = this.#options.logger;
    // Before the store is opened: a root that does not exist must not leave the database locked.
    const dbPath =
      typeof options.db === "string"
        ? options.db
        : options.db instanceof SqliteSyncStore
          ? options.db.path
          : undefined;
    const fileAccess = resolveFileAccess(options.fileRoots, options.protectedFiles, dbPath);
    const { store, ownerLock } = openStore(options, logger);
    this.#ownerLock = ownerLock;
    const path = store instanceof SqliteSyncStore ? store.path : undefined;
    this.#guard = new GuardedStore(store, logger, path);
    this.store = this.#guard;
    this.#writes = new WriteRetry(logger, () => this.#dispatcher.request());
    this.#hub = new EventHub((error) => logger.error("an event listener threw", { error: String(error) }));
    this.#counts = new TaskCounts(this.store);
    this.#hub.subscribe(this.#counts.observe);
    this.#observers = new Observers(this.#hub, logger);
    this.#telemetry = new TelemetryBuffer(
      this.store,
      this.#hub,
      this.#options.telemetryIntervalMs,
      (error) =>
        logger.error("writing progress and logs failed; writing each task's alone", { error: String(error) }),
      (taskId, why) => logger.warn(`progress or log of task ${taskId} dropped`, { why }),
    );
    this.#transitions = new Transitions(this.store, this.#hub);
    this.#dispatcher = new Dispatcher(
      this.registry,
      {
        accepting: () => this.#state === "running",
        canRun: (name) => this.#executor.canRun(name),
        hasFreeSlot: () => this.#executor.hasFreeSlot(),
        startRun: (id, name) => this.#executor.start(id, name),
      },
      logger,
    );
    this.#settlement = new RunSettlement(
      this.store,
      this.#transitions,
      (task) => this.#dispatcher.enqueueIfSet(task),
      this.#selfRestarts,
      logger,
    );
    this.#commits = new MessageCommits(this.#guard, this.#hub, this.#writes, () =>
      this.#dispatcher.dispatchIfRequested(),
    );
    this.#creates = new CreateBatch<CreateResult>(this.#guard, this.#hub, ({ task, created }) => {
      if (created) this.#dispatcher.remove(task.id);
    });
    this.#creation = new TaskCreation(
      this.registry,
      this.store,
      this.#transitions,
      this.#dispatcher,
      this.#creates,
    );
    this.#retention =
      options.retainMs === undefined
        ? undefined
        : new RetentionPruner(this.store, options.retainMs, logger, options.retention, (tasks) =>
            this.#counts.deleted(tasks),
          );
    this.#pool = new WorkerPool(
      this.#options.workerUrl,
      {
        onMessage: (slot, message) => this.#executor.onWorkerMessage(slot, message),
        onCrash: (slot, exitCode, signal) => this.#executor.onWorkerCrash(slot, exitCode, signal),
      },
      concurrency,
      this.#options.processCommand,
      fileAccess,
    );
    this.#executor = new RunExecutor(
      {
        registry: this.registry,
        pool: this.#pool,
        transitions: this.#transitions,
        telemetry: this.#telemetry,
        commits: this.#commits,
        writes: this.#writes,
        dispatcher: this.#dispatcher,
        settlement: this.#settlement,
      },
      {
        concurrency,
        stopGraceMs: this.#options.stopGraceMs,
        maxParkedWorkers: this.#options.maxParkedWorkers,
        memoryLimitMb: this.#memoryLimitMb,
        limits,
        logger,
      },
      {
        accepting: () => this.#state === "running",
        control: (action, id, controlOptions) => void this.#control(action, id, controlOptions),
        spawn: async (run, name, paramsJson) => {
          this.#assertAccepting();
          return this.#creation.spawn(run, name, paramsJson);
        },
      },
    );
    this.#taskControl = new TaskControl({
      transitions: this.#transitions,
      executor: this.#executor,
      dispatcher: this.#dispatcher,
      writes: this.#writes,
      selfRestarts: this.#selfRestarts,
    });
  }

  get started(): boolean {
    return this.#state === "running";
  }

  /**
   * Whether kiln can take work: started, not shutting down, and its database file still the
   * one at its path and undamaged (checked now). When not, the reason, in one line.
   */
  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.#state === "new") return { ready: false, reason: "kiln has not started yet" };
    if (this.#state !== "running") return { ready: false, reason: "kiln is shutting down" };
    const fault = this.#guard.lastingFault(true);
    if (fault) return { ready: false, reason: `the database cannot be used: ${describeFault(fault)}` };
    return { ready: true };
  }

  // ── Registration ───────────────────────────────────────────────────────────────────────

  /**
   * Imports a module and registers every exported `BaseTask` subclass. Workers import the same
   * module to run them. Returns the names registered.
   */
  async load(module: string | URL): Promise<string[]> {
    const specifier = module instanceof URL ? module.href : module;
    const exports = (await import(specifier)) as Record<string, unknown>;
    const names: string[] = [];
    for (const value of Object.values(exports)) {
      if (!isTaskClass(value) || !Object.hasOwn(value, "taskName")) continue;
      names.push(this.#add(value, specifier).name);
    }
    return names;
  }

  /**
   * Registers task classes. A class must be preloaded by the worker entrypoint or say where
   * it lives with `static module = import.meta.url`; otherwise use `load()`.
   */
  register(...classes: TaskClass[]): void {
    for (const cls of classes) {
      if (!isTaskClass(cls)) throw new Error("only subclasses of BaseTask can be registered");
      if (this.#preloaded.has(cls)) {
        this.#add(cls, undefined);
        continue;
      }
      const module = (cls as { module?: unknown }).module;
      if (typeof module !== "string") {
        throw new Error(
          `cannot tell which module defines task "${cls.taskName}": register it with manager.load(path) or give the class \`static module = import.meta.url\``,
        );
      }
      this.#add(cls, module);
    }
  }

  #add(cls: TaskClass, module: string | undefined): RegisteredTask {
    const registered = this.registry.add(cls, module);
    this.#dispatcher.adoptOrphans(registered.name);
    return registered;
  }

  // ── Lifecycle of the manager ───────────────────────────────────────────────────────────

  /** Migrates the database, restores every active task and begins scheduling. Idempotent. */
  start(): Promise<void> {
    if (this.#state === "running") return Promise.resolve();
    if (this.#state !== "new")
      return Promise.reject(new Error("a TaskManager cannot start again after shutdown"));
    // A damaged file is refused here, in one line, not by some request later.
    this.store.probeIntegrity?.();
    this.store.migrate();
    this.store.verifyReadable();
    // The first count of tasks per status runs in small steps from now on, off the hot path.
    this.#counts.ready().catch((error: unknown) =>
      this.#options.logger.warn("counting tasks failed; the next read tries again", {
        error: String(error),
      }),
    );
    restoreActiveTasks(this.store, this.registry, this.#transitions, this.#settlement, (task) =>
      this.#dispatcher.enqueue(task),
    );
    this.#state = "running";
    this.#pool.warm(this.concurrency);
    this.#dispatcher.request();
    this.#retention?.start();
    return Promise.resolve();
  }

  /**
   * Stops admitting work, asks running tasks to pause at their next checkpoint (they resume
   * on the next start), ends what does not answer within the grace period and closes the
   * database. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutdownNow();
    return this.#shutdown;
  }

  async #shutdownNow(): Promise<void> {
    // Submitted before the shutdown began, so still accepted.
    this.#creates.flush();
    const wasRunning = this.#state === "running";
    this.#state = "stopping";
    this.#dispatcher.stop();
    this.#counts.stop();
    await this.#retention?.stop();
    if (wasRunning) {
      this.#executor.pauseAllForShutdown();
      await this.#executor.untilIdle(this.#options.shutdownGraceMs);
      this.#commits.flush();
      this.#executor.terminateUnpaused();
      this.#telemetry.close();
      this.#writes.retryNow();
      this.#writes.close();
      await this.#pool.close();
    }
    this.#state = "stopped";
    if (this.#ownsStore) this.store.close();
    this.#ownerLock?.release();
  }

  // ── Tasks ──────────────────────────────────────────────────────────────────────────────

  /** Validates the params against the task name's schema and queues a new task. */
  create(name: string, params: unknown, options: CreateOptions = {}): CreateResult {
    this.#assertAccepting();
    return this.#creation.create(name, params, options);
  }

  /** journal_mode and synchronous as the SQLite store's own connection reports them; undefined for another store. */
  durabilitySettings(): DurabilitySettings | undefined {
    const inner = this.#guard.inner;
    return inner instanceof SqliteSyncStore ? inner.durabilitySettings() : undefined;
  }

  get(id: string): TaskRecord | undefined {
    return this.store.getTask(id);
  }

  /** The task's record, or `TaskNotFoundError`. */
  require(id: string): TaskRecord {
    const task = this.store.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /**
   * The task with this id or, for a unique prefix of at least six characters, the one whose id
   * starts with it; `TaskNotFoundError` for none, `AmbiguousIdError` (409) for several.
   */
  find(idOrPrefix: string): TaskRecord {
    return findByIdOrPrefix(this.store, idOrPrefix);
  }

  /** A handle with the lifecycle methods `start`, `pause`, `stop` and `restart` on one task. */
  task(id: string): TaskHandle {
    this.require(id);
    return new TaskHandle(this, id);
  }

  list(query: ListTasksQuery = {}): Page<TaskRecord, string> {
    return this.store.listTasks(query);
  }

  events(id: string, query: HistoryQuery = {}): Page<TaskEventRecord, number> {
    this.require(id);
    return this.store.listEvents(id, query);
  }

  logs(id: string, query: HistoryQuery = {}): Page<TaskLogRecord, number> {
    this.require(id);
    this.#telemetry.flush();
    return this.store.listLogs(id, query);
  }

  /** Deletes a task that has ended, with its history and logs. */
  delete(id: string): void {
    const task = this.require(id);
    if (!this.store.deleteTask(id)) {
      throw new IllegalTransitionError(`cannot delete a ${task.status} task: stop it first`, {
        status: task.status,
      });
    }
    this.#telemetry.discard(id);
    this.#counts.deleted([{ id, status: task.status, name: task.taskName }]);
  }

  /**
   * Tasks per status and name (pairs with none left out), kept in memory. The first call after
   * start waits for the first count, which runs in small steps from `start()` on.
   */
  countByStatusAndName(): Promise<StatusNameCount[]> {
    return this.#counts.byStatusAndName();
  }

  /** Tasks per status, kept in memory; see countByStatusAndName. */
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#counts.byStatus();
  }

  stats(): ManagerStats {
    return {
      running: this.#executor.running,
      parked: this.#executor.parked,
      queued: this.#dispatcher.size,
      workers: this.#pool.size,
      idleWorkers: this.#pool.idleCount,
      concurrency: this.concurrency,
    };
  }

  /** Subscribes to every transition, control request, progress tick and log line. */
  subscribe(listener: ManagerListener): () => void {
    return this.#hub.subscribe(listener);
  }

  /**
   * Calls `observer` with every committed transition, after the engine's own work for it is
   * done; returns the function that unsubscribes it. A throw or a rejected promise is logged and
   * changes nothing; a returned promise is not awaited.
   */
  onTransition(observer: TransitionObserver): () => void {
    return this.#observers.transition.add(observer);
  }

  /** Like `onTransition`, for each line a task logs (as it arrives; written within a tick). */
  onLog(observer: LogObserver): () => void {
    return this.#observers.log.add(observer);
  }

  /** Like `onTransition`, for each progress report written (the latest per task and tick). */
  onProgress(observer: ProgressObserver): () => void {
    return this.#observers.progress.add(observer);
  }

  /**
   * Resolves with the task once `until` holds for it (checked now and after each of its
   * transitions and requests); rejects after `timeoutMs`.
   */
  waitFor(id: string, until: (task: TaskRecord) => boolean, timeoutMs = 30_000): Promise<TaskRecord> {
    return new Promise((resolve, reject) => {
      const current = this.require(id);
      if (until(current)) return resolve(current);
      const timer = setTimeout(() => {
        unsubscribe();
        reject(
          new KilnError(
            "wait_timeout",
            408,
            `task ${id} did not reach the expected state within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const unsubscribe = this.#hub.subscribe((event) => {
        let task: TaskRecord | undefined;
        if (event.type === "transition" || event.type === "request") {
          task = event.task.id === id ? event.task : undefined;
        } else if (event.type === "progress" && event.taskId === id) {
          task = this.store.getTask(id);
        }
        if (task && until(task)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(task);
        }
      });
    });
  }

  // ── Control ────────────────────────────────────────────────────────────────────────────

  pause(id: string, options: ControlOptions = {}): ControlResult {
    return this.#control("pause", id, options);
  }

  resume(id: string, options: ControlOptions = {}): ControlResult {
    return this.#control("resume", id, options);
  }

  stop(id: string, options: ControlOptions = {}): ControlResult {
    return this.#control("stop", id, options);
  }

  restart(id: string, options: ControlOptions = {}): ControlResult {
    return this.#control("restart", id, options);
  }

  /**
   * One action (pause, resume, stop, restart or delete) on many tasks: the given ids, or the
   * tasks a filter matches (by default those the action applies to), at most MAX_BULK_TASKS
   * per call. Each task is decided as the single call would be, and refused in its own result.
   */
  bulk(action: BulkAction, target: BulkTarget, options: ControlOptions = {}): Promise<BulkResult> {
    if (this.#state !== "running")
      return Promise.reject(new NotAcceptingError("kiln is not running (starting or shutting down)"));
    return runBulk(
      {
        list: (query) => this.list(query),
        control: (each, id, eachOptions) => this.#control(each, id, eachOptions),
        remove: (id) => this.delete(id),
      },
      action,
      target,
      options,
    );
  }

  #control(action: ControlAction, id: string, options: ControlOptions): ControlResult {
    if (this.#state !== "running")
      throw new NotAcceptingError("kiln is not running (starting or shutting down)");
    return this.#taskControl.apply(action, this.require(id), options);
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────────────────

  /**
   * `create()` for a caller that can wait for the commit. Every `submit` of one event-loop turn
   * shares one commit (group commit), so a burst of creates, or HTTP requests that arrive
   * together, cost one commit, not one each. Resolves once the task's row is committed; rejects
   * with what `create()` would throw. If the commit fails, every create of that turn rejects.
   */
  submit(name: string, params: unknown, options: CreateOptions = {}): Promise<CreateResult> {
    try {
      this.#assertAccepting();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#creates.submit(() => this.create(name, params, options));
  }

  /**
   * One task of `name` per element of `paramsList`, written in one commit, all or none: every
   * params is validated before anything is queued (a bad one rejects the call with its index in
   * the path, `/3/count`), and a failed commit rejects it with none of them stored.
   * Resolves with the results in the order given. No idempotency key: it names one task.
   */
  submitMany(
    name: string,
    paramsList: readonly unknown[],
    options: Omit<CreateOptions, "idempotencyKey"> = {},
  ): Promise<CreateResult[]> {
    try {
      this.#assertAccepting();
      if ((options as CreateOptions).idempotencyKey !== undefined)
        throw new TypeError("submitMany takes no idempotencyKey: a key names one task; use submit()");
      return this.#creation.createMany(name, paramsList, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #assertAccepting(): void {
    if (this.#state === "new") throw new NotAcceptingError("kiln has not started yet");
    if (this.#state !== "running")
      throw new NotAcceptingError("kiln is shutting down and accepts no new tasks");
  }
}
