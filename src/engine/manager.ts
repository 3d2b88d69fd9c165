import { availableParallelism } from "node:os";
import { type NodeIdentity, newNodeIdentity } from "../cluster/node-identity.ts";
import { loneNode, selfFirst } from "../cluster/node-list.ts";
import type { NodeRecord } from "../cluster/node-record.ts";
import { systemClock } from "../schedules/clock.ts";
import { ScheduleService } from "../schedules/service.ts";
import {
  type DurabilitySettings,
  describeFault,
  type HistoryQuery,
  type ListTasksQuery,
  type Page,
  ParamFiltersUnavailableError,
  SqliteTaskStore,
  type TaskEventRecord,
  type TaskLogRecord,
  type TaskRecord,
  type TaskStore,
  type TaskTypePause,
} from "../store/index.ts";
import type { TaskClass, TaskStatus } from "../task/index.ts";
import {
  IllegalTransitionError,
  NotAcceptingError,
  ParamFiltersUnavailable,
  TaskNotFoundError,
} from "./errors.ts";
import type { ManagerListener } from "./events.ts";
import { TaskHandle } from "./handle.ts";
import { findByIdOrPrefix } from "./id-prefix.ts";
import { type BulkAction, type BulkResult, type BulkTarget, runBulk } from "./lifecycle/bulk.ts";
import { ChildStops } from "./lifecycle/child-stops.ts";
import { beginDispatch, resumeWork, windDownRuns } from "./lifecycle/engine-start-stop.ts";
import type { ControlAction } from "./lifecycle/lifecycle.ts";
import {
  type TaskTypePauseOptions,
  type TaskTypePauseOutcome,
  TaskTypePauses,
} from "./lifecycle/task-type-pause.ts";
import { waitForTask } from "./lifecycle/wait-for.ts";
import type {
  ControlOptions,
  ControlResult,
  CreateOptions,
  CreateResult,
  ManagerStats,
  TaskManagerOptions,
  TaskTree,
} from "./manager-options.ts";
import { buildParts, type EngineParts, type ResolvedOptions, resolveOptions } from "./manager-parts.ts";
import type { LogObserver, ProgressObserver, TransitionObserver } from "./observers.ts";
import { loadTaskModule, moduleOf } from "./registration.ts";
import type { RegisteredTask, TaskRegistry } from "./registry.ts";
import { countEnded, type EndedCounts } from "./upkeep/ended-counts.ts";
import type { StatusNameCount } from "./upkeep/task-counts.ts";

type State = "new" | "running" | "stopping" | "stopped";

/**
 * The one owner of live task state: registry, scheduler, worker pool and store. Create one,
 * register task classes, `start()` it (migrate, restore, schedule) and `shutdown()` it. Every
 * method that reads or writes the store returns a promise, settled once its write is committed.
 */
export class TaskManager {
  /** The store the engine runs on, behind its guard (storage faults come out as 503 errors). */
  readonly store: TaskStore;
  readonly registry: TaskRegistry;
  /** Schedules: declared ones registered at start, the API's, and the timer that fires them. */
  readonly schedules: ScheduleService;
  readonly concurrency: number;
  /** This process among the nodes sharing the database: its id is fresh on every start. */
  readonly node: NodeIdentity;
  readonly #options: ResolvedOptions;
  readonly #parts: EngineParts;
  readonly #namePauses: TaskTypePauses;
  readonly #childStops: ChildStops;
  #state: State = "new";
  #starting: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(options: TaskManagerOptions) {
    const concurrency = options.concurrency ?? Math.max(2, availableParallelism());
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("concurrency must be an integer ≥ 1");
    this.concurrency = concurrency;
    this.node = newNodeIdentity(options.nodeName);
    this.#options = resolveOptions(options, concurrency);
    this.#parts = buildParts(
      options,
      this.#options,
      {
        accepting: () => this.#state === "running",
        control: (action, id, controlOptions) => this.#control(action, id, controlOptions),
        spawn: async (run, name, paramsJson) => {
          this.#assertAccepting();
          return this.#parts.creation.spawn(run, name, paramsJson);
        },
        // The leader fires schedules, and reads them again while other nodes may make some.
        clusterChanged: () => this.schedules?.wake(),
        // Names paused or resumed through other nodes show their reason here too.
        heartbeat: () => void this.#namePauses?.sync().catch(() => undefined),
      },
      this.node,
    );
    this.store = this.#parts.guard;
    this.#namePauses = new TaskTypePauses(
      this.store,
      this.#parts.dispatcher,
      (id, control) => this.pause(id, control),
      (id, control) => this.resume(id, control),
    );
    this.registry = this.#parts.registry;
    this.#childStops = new ChildStops({
      ...this.#parts,
      store: this.store,
      stop: (id, controlOptions) => this.#control("stop", id, controlOptions),
      logger: this.#options.logger,
    });
    this.schedules = new ScheduleService({
      ...this.#parts,
      logger: this.#options.logger,
      clock: options.scheduleClock ?? systemClock,
      resume: (id, controlOptions) => this.#control("resume", id, controlOptions),
      // Nodes sharing a database leave the firing to their leader; alone, a node always fires.
      ...(this.#parts.runtime
        ? {
            firesHere: () => this.#parts.runtime?.isLeader === true,
            sharedWithOtherNodes: () => this.#parts.runtime?.alone === false,
          }
        : {}),
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
    const fault = this.#parts.guard.lastingFault(true);
    if (fault) return { ready: false, reason: `the database cannot be used: ${describeFault(fault)}` };
    return { ready: true };
  }

  // ── Registration ───────────────────────────────────────────────────────────────────────

  /**
   * Imports a module and registers every exported `BaseTask` subclass. Workers import the same
   * module to run them. Returns the names registered.
   */
  load(module: string | URL): Promise<string[]> {
    return loadTaskModule(module, (cls, specifier) => this.#add(cls, specifier));
  }

  /**
   * Registers task classes. A class must be preloaded by the worker entrypoint or say where
   * it lives with `static module = import.meta.url`; otherwise use `load()`.
   */
  register(...classes: TaskClass[]): void {
    for (const cls of classes) this.#add(cls, moduleOf(cls, this.#options.preloaded));
  }

  #add(cls: TaskClass, module: string | undefined): RegisteredTask {
    const registered = this.registry.add(cls, module);
    this.#parts.dispatcher.adoptOrphans(registered.name);
    return registered;
  }

  // ── Lifecycle of the manager ───────────────────────────────────────────────────────────

  /** Migrates the database, restores every active task and begins scheduling. Idempotent. */
  start(): Promise<void> {
    if (this.#state === "running") return Promise.resolve();
    if (this.#state !== "new")
      return Promise.reject(new Error("a TaskManager cannot start again after shutdown"));
    this.#starting ??= this.#startNow().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #startNow(): Promise<void> {
    const { guard, counts } = this.#parts;
    // A damaged file is refused here, in one line, not by some request later.
    await guard.probeIntegrity();
    await guard.migrate();
    await guard.verifyReadable();
    // The first count of tasks per status runs in small steps from now on, off the hot path.
    counts.ready().catch((error: unknown) =>
      this.#options.logger.warn("counting tasks failed; the next read tries again", {
        error: String(error),
      }),
    );
    // Paused names first: a restored task of a paused name must wait, not start.
    await this.#namePauses.restore();
    await resumeWork(this.#parts);
    await this.schedules.register();
    if (this.#state !== "new") return;
    this.#state = "running";
    beginDispatch(this.#parts, this.concurrency);
    this.#childStops.start();
    await this.schedules.start();
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
    const { creates, dispatcher, counts, retention, runtime } = this.#parts;
    // Submitted before the shutdown began, so still accepted.
    await creates.flush();
    await this.#starting?.catch(() => undefined);
    const wasRunning = this.#state === "running";
    await this.schedules.stop();
    this.#state = "stopping";
    await runtime?.stopping();
    dispatcher.stop();
    counts.stop();
    this.#parts.dependencies.stop();
    this.#childStops.stop();
    await retention?.stop();
    if (wasRunning) await windDownRuns(this.#parts, this.#options.shutdownGraceMs);
    // After the runs were handed back: the other nodes claim them as soon as this one is gone.
    await runtime?.stop();
    this.#state = "stopped";
    if (this.#parts.ownsStore) await this.store.close();
    this.#parts.ownerLock?.release();
  }

  // ── Tasks ──────────────────────────────────────────────────────────────────────────────

  /**
   * Validates the params against the task name's schema and queues a new task. Resolves once its
   * row is committed; the creates of one event-loop turn share one commit. Same as `submit`.
   */
  create(name: string, params: unknown, options: CreateOptions = {}): Promise<CreateResult> {
    return this.submit(name, params, options);
  }

  /** journal_mode and synchronous as the SQLite store's own connection reports them; undefined for another store. */
  durabilitySettings(): DurabilitySettings | undefined {
    const inner = this.#parts.guard.inner;
    return inner instanceof SqliteTaskStore ? inner.file.durabilitySettings() : undefined;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const task = await this.store.getTask(id);
    return task && this.#withWaitReason(task);
  }

  /** The task's record, or `TaskNotFoundError`. */
  async require(id: string): Promise<TaskRecord> {
    const task = await this.store.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    return this.#withWaitReason(task);
  }

  /**
   * A PENDING task held back by its rate limit or its key's concurrency shows why as its status
   * reason and, held by its rate limit, when it may start as its `runAt`: both live in this
   * node's dispatcher, not in the row, as they change at every deferral (see WaitOverlay).
   */
  #withWaitReason(task: TaskRecord): TaskRecord {
    if (task.status !== "PENDING") return task;
    const overlay = this.#parts.dispatcher.waitOverlay(task);
    if (overlay === undefined) return task;
    const shown = { ...task, statusReason: overlay.reason };
    if (overlay.runAt !== undefined) shown.runAt = overlay.runAt;
    return shown;
  }

  /**
   * The task with this id or, for a unique prefix of at least six characters, the one whose id
   * starts with it; `TaskNotFoundError` for none, `AmbiguousIdError` (409) for several.
   */
  async find(idOrPrefix: string): Promise<TaskRecord> {
    return this.#withWaitReason(await findByIdOrPrefix(this.store, idOrPrefix));
  }

  /** `find`, with what the task waits for and the tasks it spawned (at most 100 listed). */
  async findWithTree(idOrPrefix: string): Promise<TaskTree> {
    const task = await this.find(idOrPrefix);
    const [dependsOn, waitingFor, children] = await Promise.all([
      task.dependencyPolicy === null ? [] : this.store.awaitedIds(task.id, "dependencies"),
      this.store.awaitedIds(task.id, "children"),
      this.store.childrenOf(task.id, 100),
    ]);
    return { task, dependsOn, waitingFor, children };
  }

  /** A handle with the lifecycle methods `start`, `pause`, `stop` and `restart` on one task. */
  async task(id: string): Promise<TaskHandle> {
    await this.require(id);
    return new TaskHandle(this, id);
  }

  async list(query: ListTasksQuery = {}): Promise<Page<TaskRecord, string>> {
    const page = await this.store.listTasks(query).catch((error: unknown) => {
      throw error instanceof ParamFiltersUnavailableError
        ? new ParamFiltersUnavailable(error.message)
        : error;
    });
    return { ...page, items: page.items.map((task) => this.#withWaitReason(task)) };
  }

  async events(id: string, query: HistoryQuery = {}): Promise<Page<TaskEventRecord, number>> {
    await this.require(id);
    return this.store.listEvents(id, query);
  }

  async logs(id: string, query: HistoryQuery = {}): Promise<Page<TaskLogRecord, number>> {
    await this.require(id);
    await this.#parts.telemetry.flush();
    return this.store.listLogs(id, query);
  }

  /** Deletes a task that has ended, with its history and logs. */
  async delete(id: string): Promise<void> {
    const task = await this.require(id);
    if (!(await this.store.deleteTask(id))) {
      throw new IllegalTransitionError(`cannot delete a ${task.status} task: stop it first`, {
        status: task.status,
      });
    }
    this.#parts.telemetry.discard(id);
    const deleted = [{ id, status: task.status, name: task.taskName }];
    this.#parts.counts.deleted(deleted);
    this.#parts.runtime?.deleted(deleted);
  }

  /**
   * Tasks per status and name (pairs with none left out), kept in memory. The first call after
   * start waits for the first count, which runs in small steps from `start()` on.
   */
  countByStatusAndName(): Promise<StatusNameCount[]> {
    return this.#parts.counts.byStatusAndName();
  }

  /** Tasks per status, kept in memory; see countByStatusAndName. */
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#parts.counts.byStatus();
  }

  /** Tasks that ended in the last hour, in all and per minute over the last `minutes` (1–60). */
  endedCounts(minutes: number, now = Date.now()): Promise<EndedCounts> {
    return countEnded(this.store, now, minutes);
  }

  /** The registered task classes, as the API describes them. */
  taskTypes(): readonly RegisteredTask[] {
    return this.registry.all();
  }

  /**
   * Pauses a registered task name, durably: no new task of it starts (they wait PENDING, with
   * the reason shown) until `resumeTaskType`; with `running: "pause"` its running tasks pause at
   * their next checkpoint too.
   */
  pauseTaskType(name: string, options: TaskTypePauseOptions = {}): Promise<TaskTypePauseOutcome> {
    this.registry.require(name);
    return this.#namePauses.pause(name, options);
  }

  /** Resumes a task name; false when it was not paused. */
  resumeTaskType(name: string, options: Omit<TaskTypePauseOptions, "running"> = {}): Promise<boolean> {
    this.registry.require(name);
    return this.#namePauses.resume(name, options);
  }

  /** The paused task names, from the store. */
  taskTypePauses(): Promise<TaskTypePause[]> {
    return this.#namePauses.list();
  }

  stats(): ManagerStats {
    return {
      running: this.#parts.executor.running,
      parked: this.#parts.executor.parked,
      queued: this.#parts.dispatcher.size,
      workers: this.#parts.pool.size,
      idleWorkers: this.#parts.pool.idleCount,
      concurrency: this.concurrency,
    };
  }

  /**
   * The nodes serving the database, this one first. On SQLite that is this process alone, which
   * is always its own leader.
   */
  async nodes(): Promise<NodeRecord[]> {
    const runtime = this.#parts.runtime;
    if (runtime) return selfFirst(await runtime.nodes(), this.node);
    const status = this.#state === "running" || this.#state === "new" ? "alive" : "stopping";
    return [loneNode(this.node, status, this.concurrency, this.#parts.executor.running)];
  }

  /**
   * Subscribes to every transition, control request, progress tick and log line; on a database
   * nodes share, to the transitions and requests of tasks on the other nodes too.
   */
  subscribe(listener: ManagerListener): () => void {
    return this.#parts.hub.subscribe(listener, { clusterWide: true });
  }

  /**
   * Calls `observer` with every committed transition, after the engine's own work for it is
   * done; returns the function that unsubscribes it. A throw or a rejected promise is logged and
   * changes nothing; a returned promise is not awaited.
   */
  onTransition(observer: TransitionObserver): () => void {
    return this.#parts.observers.transition.add(observer);
  }

  /** Like `onTransition`, for each line a task logs (as it arrives; written within a tick). */
  onLog(observer: LogObserver): () => void {
    return this.#parts.observers.log.add(observer);
  }

  /** Like `onTransition`, for each progress report written (the latest per task and tick). */
  onProgress(observer: ProgressObserver): () => void {
    return this.#parts.observers.progress.add(observer);
  }

  /**
   * Resolves with the task once `until` holds for it (checked now and after each of its
   * transitions and requests); rejects after `timeoutMs`.
   */
  waitFor(id: string, until: (task: TaskRecord) => boolean, timeoutMs = 30_000): Promise<TaskRecord> {
    return waitForTask(this.#parts.hub, this.store, id, until, timeoutMs);
  }

  // ── Control ────────────────────────────────────────────────────────────────────────────

  pause(id: string, options: ControlOptions = {}): Promise<ControlResult> {
    return this.#control("pause", id, options);
  }

  resume(id: string, options: ControlOptions = {}): Promise<ControlResult> {
    return this.#control("resume", id, options);
  }

  stop(id: string, options: ControlOptions = {}): Promise<ControlResult> {
    return this.#control("stop", id, options);
  }

  restart(id: string, options: ControlOptions = {}): Promise<ControlResult> {
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

  #control(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult> {
    if (this.#state !== "running")
      return Promise.reject(new NotAcceptingError("kiln is not running (starting or shutting down)"));
    return this.#parts.taskControl.apply(action, id, options);
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────────────────

  /**
   * Creates a task once the commit it shares with every other create of this event-loop turn is
   * made (group commit), so a burst of creates, or HTTP requests that arrive together, cost one
   * commit, not one each. Rejects with what is wrong with the request; if the commit fails,
   * every create of that turn rejects.
   */
  submit(name: string, params: unknown, options: CreateOptions = {}): Promise<CreateResult> {
    try {
      this.#assertAccepting();
      return this.#parts.creation.create(name, params, options);
    } catch (error) {
      return Promise.reject(error);
    }
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
      return this.#parts.creation.createMany(name, paramsList, options);
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
