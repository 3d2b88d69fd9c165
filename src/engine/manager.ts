import { availableParallelism } from "node:os";
import { type NodeIdentity, newNodeIdentity } from "../cluster/node-identity.ts";
import type { NodeRecord } from "../cluster/node-record.ts";
import type { ScheduleService } from "../schedules/service.ts";
import type {
  DurabilitySettings,
  HistoryQuery,
  ListTasksQuery,
  Page,
  TaskEventRecord,
  TaskLogRecord,
  TaskRecord,
  TaskStore,
  TaskTypePause,
} from "../store/index.ts";
import type { TaskClass, TaskStatus } from "../task/index.ts";
import type { ManagerListener } from "./events.ts";
import { TaskHandle } from "./handle.ts";
import { type BulkAction, type BulkResult, type BulkTarget, runBulk } from "./lifecycle/bulk.ts";
import type { ControlAction } from "./lifecycle/lifecycle.ts";
import { ManagerLifecycle } from "./lifecycle/manager-lifecycle.ts";
import { deleteEndedTask } from "./lifecycle/task-deletion.ts";
import type { TaskTypePauseOptions, TaskTypePauseOutcome } from "./lifecycle/task-type-pause.ts";
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
import { ManagerQueries } from "./manager-queries.ts";
import { buildServices, type ManagerServices } from "./manager-services.ts";
import type { LogObserver, ProgressObserver, TransitionObserver } from "./observers.ts";
import { loadTaskModule, moduleOf } from "./registration.ts";
import type { RegisteredTask, TaskRegistry } from "./registry.ts";
import type { EndedCounts } from "./upkeep/ended-counts.ts";
import type { StatusNameCount } from "./upkeep/task-counts.ts";

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
  readonly #services: ManagerServices;
  readonly #lifecycle: ManagerLifecycle;
  readonly #queries: ManagerQueries;

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
        accepting: () => this.#lifecycle.running,
        control: (action, id, controlOptions) => this.#control(action, id, controlOptions),
        spawn: (run, name, paramsJson) =>
          this.#lifecycle.whenAccepting(() => this.#parts.creation.spawn(run, name, paramsJson)),
        // The leader fires schedules, and reads them again while other nodes may make some.
        clusterChanged: () => this.schedules?.wake(),
        // Names paused or resumed through other nodes show their reason here too.
        heartbeat: () => void this.#services?.namePauses.sync().catch(() => undefined),
      },
      this.node,
    );
    this.store = this.#parts.guard;
    this.registry = this.#parts.registry;
    this.#services = buildServices(this.#parts, this.#options, options.scheduleClock, {
      control: (action, id, controlOptions) => this.#control(action, id, controlOptions),
      pause: (id, control) => this.pause(id, control),
      resume: (id, control) => this.resume(id, control),
    });
    this.schedules = this.#services.schedules;
    this.#lifecycle = new ManagerLifecycle(this.#parts, this.#options, this.#services);
    this.#queries = new ManagerQueries(this.#parts, this.node, concurrency, () => this.#lifecycle.alive);
  }

  get started(): boolean {
    return this.#lifecycle.running;
  }

  /**
   * Whether kiln can take work: started, not shutting down, and its database file still the
   * one at its path and undamaged (checked now). When not, the reason, in one line.
   */
  readiness(): { ready: true } | { ready: false; reason: string } {
    return this.#lifecycle.readiness();
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
    return this.#lifecycle.start();
  }

  /**
   * Stops admitting work, asks running tasks to pause at their next checkpoint (they resume
   * on the next start), ends what does not answer within the grace period and closes the
   * database. Idempotent.
   */
  shutdown(): Promise<void> {
    return this.#lifecycle.shutdown();
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
    return this.#queries.durabilitySettings();
  }

  get(id: string): Promise<TaskRecord | undefined> {
    return this.#queries.get(id);
  }

  /** The task's record, or `TaskNotFoundError`. */
  require(id: string): Promise<TaskRecord> {
    return this.#queries.require(id);
  }

  /**
   * The task with this id or, for a unique prefix of at least six characters, the one whose id
   * starts with it; `TaskNotFoundError` for none, `AmbiguousIdError` (409) for several.
   */
  find(idOrPrefix: string): Promise<TaskRecord> {
    return this.#queries.find(idOrPrefix);
  }

  /** `find`, with what the task waits for and the tasks it spawned (at most 100 listed). */
  findWithTree(idOrPrefix: string): Promise<TaskTree> {
    return this.#queries.findWithTree(idOrPrefix);
  }

  /** A handle with the lifecycle methods `start`, `pause`, `stop` and `restart` on one task. */
  async task(id: string): Promise<TaskHandle> {
    await this.require(id);
    return new TaskHandle(this, id);
  }

  list(query: ListTasksQuery = {}): Promise<Page<TaskRecord, string>> {
    return this.#queries.list(query);
  }

  events(id: string, query: HistoryQuery = {}): Promise<Page<TaskEventRecord, number>> {
    return this.#queries.events(id, query);
  }

  logs(id: string, query: HistoryQuery = {}): Promise<Page<TaskLogRecord, number>> {
    return this.#queries.logs(id, query);
  }

  /** Deletes a task that has ended, with its history and logs. */
  async delete(id: string): Promise<void> {
    await deleteEndedTask(this.#parts, await this.require(id));
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
    return this.#queries.endedCounts(minutes, now);
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
    return this.#services.namePauses.pause(name, options);
  }

  /** Resumes a task name; false when it was not paused. */
  resumeTaskType(name: string, options: Omit<TaskTypePauseOptions, "running"> = {}): Promise<boolean> {
    this.registry.require(name);
    return this.#services.namePauses.resume(name, options);
  }

  /** The paused task names, from the store. */
  taskTypePauses(): Promise<TaskTypePause[]> {
    return this.#services.namePauses.list();
  }

  stats(): ManagerStats {
    return this.#queries.stats();
  }

  /**
   * The nodes serving the database, this one first. On SQLite that is this process alone, which
   * is always its own leader.
   */
  nodes(): Promise<NodeRecord[]> {
    return this.#queries.nodes();
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
    return this.#lifecycle.whenRunning(() =>
      runBulk(
        {
          list: (query) => this.list(query),
          control: (each, id, eachOptions) => this.#control(each, id, eachOptions),
          remove: (id) => this.delete(id),
        },
        action,
        target,
        options,
      ),
    );
  }

  #control(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult> {
    return this.#lifecycle.whenRunning(() => this.#parts.taskControl.apply(action, id, options));
  }

  // ── Scheduling ─────────────────────────────────────────────────────────────────────────

  /**
   * Creates a task once the commit it shares with every other create of this event-loop turn is
   * made (group commit), so a burst of creates, or HTTP requests that arrive together, cost one
   * commit, not one each. Rejects with what is wrong with the request; if the commit fails,
   * every create of that turn rejects.
   */
  submit(name: string, params: unknown, options: CreateOptions = {}): Promise<CreateResult> {
    return this.#lifecycle.whenAccepting(() => this.#parts.creation.create(name, params, options));
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
    return this.#lifecycle.whenAccepting(() => {
      if ((options as CreateOptions).idempotencyKey !== undefined)
        throw new TypeError("submitMany takes no idempotencyKey: a key names one task; use submit()");
      return this.#parts.creation.createMany(name, paramsList, options);
    });
  }
}
