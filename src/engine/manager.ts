import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import {
  type DatabaseOwnerLock,
  type HistoryQuery,
  type ListTasksQuery,
  type Page,
  SqliteTaskStore,
  type TaskEventRecord,
  type TaskLogRecord,
  type TaskRecord,
  type TaskStore,
} from "../store/index.ts";
import { isTaskClass, type TaskClass, type TaskStatus } from "../task/index.ts";
import { Control, type FromWorker } from "../worker/protocol.ts";
import { CreateBatch } from "./create-batch.ts";
import { Dispatcher } from "./dispatcher.ts";
import {
  IllegalTransitionError,
  KilnError,
  NotAcceptingError,
  RunEndNotWrittenError,
  TaskNotFoundError,
} from "./errors.ts";
import { EventHub, type ManagerListener } from "./events.ts";
import { TaskHandle } from "./handle.ts";
import { type ControlAction, decideControl } from "./lifecycle.ts";
import { stderrLogger } from "./logger.ts";
import type {
  ControlOptions,
  ControlResult,
  CreateOptions,
  CreateResult,
  ManagerStats,
  TaskManagerOptions,
} from "./manager-options.ts";
import { checkMemoryLimitMb, memoryLimitError, resolveMemoryLimitBytes } from "./memory-limit.ts";
import { MessageCommits } from "./message-commit.ts";
import { openStore } from "./open-store.ts";
import { WorkerPool } from "./pool.ts";
import { type RegisteredTask, TaskRegistry } from "./registry.ts";
import { restoreActiveTasks } from "./restore.ts";
import { RetentionPruner } from "./retention.ts";
import { type RunEnd, RunSettlement } from "./run-settlement.ts";
import { clearRunTimers, type LiveRun } from "./runs.ts";
import type { TaskSlot } from "./slot.ts";
import { GuardedStore } from "./storage-guard.ts";
import { type StatusNameCount, TaskCounts } from "./task-counts.ts";
import { TelemetryBuffer } from "./telemetry.ts";
import { ENGINE, type Requester, TASK_ITSELF, Transitions } from "./transitions.ts";
import { WriteRetry } from "./write-retry.ts";

type State = "new" | "running" | "stopping" | "stopped";

/**
 * The one owner of live task state: registry, scheduler, worker pool and store. Create one,
 * register task classes, `start()` it (migrate, restore, schedule) and `shutdown()` it.
 */
export class TaskManager {
  readonly store: TaskStore;
  readonly #guard: GuardedStore;
  readonly #counts: TaskCounts;
  readonly #commits: MessageCommits;
  readonly #creates: CreateBatch<CreateResult>;
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
    >
  >;
  readonly #memoryLimitMb: number | undefined;
  readonly #preloaded: ReadonlySet<TaskClass>;
  readonly #ownsStore: boolean;
  readonly #hub: EventHub;
  readonly #telemetry: TelemetryBuffer;
  readonly #pool: WorkerPool;
  readonly #transitions: Transitions;
  readonly #settlement: RunSettlement;
  readonly #dispatcher: Dispatcher;
  readonly #writes: WriteRetry;
  readonly #runs = new Map<string, LiveRun>();
  readonly #slotRuns = new Map<TaskSlot, LiveRun>();
  readonly #runningByName = new Map<string, number>();
  #parkedOrder: LiveRun[] = [];
  #running = 0;
  #state: State = "new";
  #idleWaiters: (() => void)[] = [];
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
    this.#preloaded = new Set(options.preloadedTasks ?? []);
    this.#ownsStore = typeof options.db === "string";
    const logger = this.#options.logger;
    const { store, ownerLock } = openStore(options, logger);
    this.#ownerLock = ownerLock;
    const path = store instanceof SqliteTaskStore ? store.path : undefined;
    this.#guard = new GuardedStore(store, logger, path);
    this.store = this.#guard;
    this.#writes = new WriteRetry(logger, () => this.#dispatcher.request());
    this.#hub = new EventHub((error) => logger.error("an event listener threw", { error: String(error) }));
    this.#counts = new TaskCounts(this.store);
    this.#hub.subscribe(this.#counts.observe);
    this.#telemetry = new TelemetryBuffer(this.store, this.#hub, this.#options.telemetryIntervalMs, (error) =>
      logger.error("writing progress and logs failed", { error: String(error) }),
    );
    this.#transitions = new Transitions(this.store, this.#hub);
    this.#dispatcher = new Dispatcher(
      this.registry,
      {
        accepting: () => this.#state === "running",
        canRun: (name) => this.#canRun(name),
        hasFreeSlot: () => this.#running < this.concurrency,
        startRun: (id, name) => this.#startRun(id, name),
      },
      logger,
    );
    this.#settlement = new RunSettlement(this.store, this.#transitions, (task) =>
      this.#dispatcher.enqueueIfSet(task),
    );
    this.#commits = new MessageCommits(this.#guard, this.#hub, this.#writes, () =>
      this.#dispatcher.dispatchIfRequested(),
    );
    this.#creates = new CreateBatch<CreateResult>(this.#guard, this.#hub, ({ task, created }) => {
      if (created) this.#dispatcher.remove(task.id);
    });
    this.#retention =
      options.retainMs === undefined
        ? undefined
        : new RetentionPruner(this.store, options.retainMs, logger, options.retention, (tasks) =>
            this.#counts.deleted(tasks),
          );
    this.#pool = new WorkerPool(
      this.#options.workerUrl,
      {
        onMessage: (slot, message) => this.#onWorkerMessage(slot, message),
        onCrash: (slot, exitCode, signal) => this.#onWorkerCrash(slot, exitCode, signal),
      },
      concurrency,
      this.#options.processCommand,
    );
  }

  get started(): boolean {
    return this.#state === "running";
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
      for (const run of this.#runs.values()) {
        if (run.parked || run.requested) continue;
        run.cause = "shutdown";
        run.slot.setControl(Control.PAUSE);
      }
      await this.#untilIdle(this.#options.shutdownGraceMs);
      this.#commits.flush();
      for (const run of [...this.#runs.values()]) {
        if (run.parked) continue;
        this.#pool.terminate(run.slot);
        this.#endRun(
          run,
          { type: "stopped", taskId: run.taskId, reason: "terminated at shutdown" },
          "shutdown",
        );
      }
      this.#telemetry.close();
      this.#writes.retryNow();
      this.#writes.close();
      await this.#pool.close();
    }
    this.#state = "stopped";
    if (this.#ownsStore) this.store.close();
    this.#ownerLock?.release();
  }

  #untilIdle(timeoutMs: number): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ── Tasks ──────────────────────────────────────────────────────────────────────────────

  /** Validates the params against the task name's schema and queues a new task. */
  create(name: string, params: unknown, options: CreateOptions = {}): CreateResult {
    this.#assertAccepting();
    const registered = this.registry.require(name);
    if (options.idempotencyKey !== undefined) {
      const existing = this.store.findByIdempotencyKey(options.idempotencyKey);
      if (existing) return { task: existing, created: false };
    }
    const parsed = registered.parseParams(params);
    const runAt = options.runAt instanceof Date ? options.runAt.getTime() : (options.runAt ?? null);
    const task = this.#transitions.created(
      {
        id: Bun.randomUUIDv7(),
        taskName: name,
        status: options.paused ? "PAUSED" : "PENDING",
        params: parsed,
        priority: options.priority ?? 0,
        runAt,
        idempotencyKey: options.idempotencyKey ?? null,
        tags: options.tags?.length ? options.tags : null,
      },
      { actor: options.actor ?? null, source: options.source ?? null },
    );
    if (task.status === "PENDING") {
      this.#dispatcher.enqueue(task);
      this.#dispatcher.request();
    }
    return { task, created: true };
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

  /** A handle with the seed's lifecycle methods (`start`, `pause`, `stop`, `restart`). */
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
      running: this.#running,
      parked: this.#parkedOrder.filter((run) => run.parked && !run.detached).length,
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

  #control(action: ControlAction, id: string, options: ControlOptions): ControlResult {
    if (this.#state !== "running")
      throw new NotAcceptingError("kiln is not running (starting or shutting down)");
    const task = this.require(id);
    const by: Requester = { actor: options.actor ?? null, source: options.source ?? null };
    const reason = options.reason ?? null;
    const decision = decideControl(action, task);
    switch (decision.kind) {
      case "refuse":
        throw new IllegalTransitionError(decision.message, {
          status: task.status,
          requestedAction: task.requestedAction,
        });
      case "pending":
        return { task, pending: true };
      case "withdraw-pause": {
        const run = this.#runs.get(id);
        const updated = this.#transitions.withdrawPause(task, reason, by);
        if (run) {
          run.requested = undefined;
          run.slot.setControl(Control.NONE);
          run.slot.post({ type: "resume" });
        }
        return { task: updated, pending: false };
      }
      case "request":
        return {
          task: this.#requestFromRun(action as "pause" | "stop" | "restart", task, reason, by),
          pending: true,
        };
      case "now":
        return { task: this.#controlNow(action, task, reason, by), pending: false };
    }
  }

  #requestFromRun(
    action: "pause" | "stop" | "restart",
    task: TaskRecord,
    reason: string | null,
    by: Requester,
  ) {
    const run = this.#runs.get(task.id);
    if (!run || run.parked) {
      // Its run ended while the database could not be written; the end is waiting to be written.
      if (this.#writes.size > 0) throw new RunEndNotWrittenError(task.id);
      throw new KilnError("internal", 500, `task ${task.id} is RUNNING but has no live run`);
    }
    const updated = this.#transitions.requested(task, action, reason, by);
    run.requested = action;
    run.requestReason = reason;
    run.requestBy = by;
    if (action === "pause") {
      run.slot.setControl(Control.PAUSE);
    } else {
      this.#askToStop(run, reason ?? `${action} requested`);
    }
    return updated;
  }

  #controlNow(action: ControlAction, task: TaskRecord, reason: string | null, by: Requester): TaskRecord {
    const run = this.#runs.get(task.id);
    let updated: TaskRecord | undefined;
    // The write comes first: if the database refuses it, the queue and the workers are untouched.
    if (action === "pause") {
      updated = this.#transitions.paused(task.id, undefined, reason, by, "PENDING");
      if (updated) this.#dispatcher.remove(task.id);
    } else if (action === "resume") {
      updated = this.#transitions.resumed(task.id, reason, by);
      if (updated) this.#dispatcher.enqueue(updated);
    } else {
      updated =
        action === "stop"
          ? this.#transitions.stopped(task.id, task.status, reason, by)
          : this.#transitions.restarted(task, reason, by);
      if (updated) {
        this.#dispatcher.remove(task.id);
        if (run?.parked) this.#detachParked(run, reason ?? `${action} requested`);
      }
      if (updated?.status === "PENDING") this.#dispatcher.enqueue(updated);
    }
    if (!updated) throw new IllegalTransitionError(`the task changed while handling ${action}; try again`);
    this.#dispatcher.request();
    return updated;
  }

  /** A parked run whose task was stopped or restarted: let its worker unwind, then reuse it. */
  #detachParked(run: LiveRun, reason: string): void {
    run.detached = true;
    this.#runs.delete(run.taskId);
    this.#askToStop(run, reason);
  }

  #askToStop(run: LiveRun, reason: string): void {
    run.slot.setControl(Control.STOP);
    run.slot.post({ type: "stop", reason });
    const grace = run.task.stopGraceMs ?? this.#options.stopGraceMs;
    if (run.graceTimer) clearTimeout(run.graceTimer);
    run.graceTimer = setTimeout(() => {
      run.graceTimer = undefined;
      this.#pool.terminate(run.slot);
      this.#endRun(run, {
        type: "stopped",
        taskId: run.taskId,
        reason: `did not reach a checkpoint within ${grace} ms; its worker was terminated`,
      });
    }, grace);
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

  #assertAccepting(): void {
    if (this.#state === "new") throw new NotAcceptingError("kiln has not started yet");
    if (this.#state !== "running")
      throw new NotAcceptingError("kiln is shutting down and accepts no new tasks");
  }

  #canRun(name: string): boolean {
    if (this.#running >= this.concurrency) return false;
    const limit = this.registry.get(name)?.concurrency;
    return limit === undefined || (this.#runningByName.get(name) ?? 0) < limit;
  }

  #countRunning(name: string, delta: 1 | -1): void {
    this.#running += delta;
    this.#runningByName.set(name, (this.#runningByName.get(name) ?? 0) + delta);
    if (this.#running === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  #startRun(id: string, name: string): void {
    const registered = this.registry.get(name);
    if (!registered) return;
    const parked = this.#runs.get(id);
    if (parked?.parked) {
      const resumed = this.#transitions.running(id, "continues on the worker it paused on", "resume");
      if (!resumed) return;
      parked.parked = false;
      this.#parkedOrder = this.#parkedOrder.filter((run) => run !== parked);
      parked.segmentStart = performance.now();
      this.#countRunning(name, 1);
      this.#commits.launch({
        launch: () => {
          parked.slot.setControl(Control.NONE);
          parked.slot.post({ type: "resume" });
          this.#armTimeout(parked);
        },
        undo: () => {
          parked.parked = true;
          this.#parkedOrder.push(parked);
          this.#countRunning(name, -1);
          this.#dispatcher.requeueAfterFailedStart({ id, name, priority: resumed.priority });
          this.#dispatcher.request();
        },
      });
      return;
    }
    const task = this.#transitions.running(id, null, "start");
    if (!task) return;
    const slot = this.#pool.acquire(registered.isolation);
    const run: LiveRun = {
      taskId: id,
      task: registered,
      slot,
      parked: false,
      detached: false,
      requested: undefined,
      requestReason: null,
      requestBy: ENGINE,
      cause: undefined,
      segmentStart: performance.now(),
      usedMs: 0,
      timeoutTimer: undefined,
      graceTimer: undefined,
    };
    this.#runs.set(id, run);
    this.#slotRuns.set(slot, run);
    this.#countRunning(name, 1);
    this.#commits.launch({
      launch: () => {
        slot.setControl(Control.NONE);
        slot.post({
          type: "run",
          taskId: id,
          name,
          module: registered.module,
          params: task.params,
          state: task.checkpoint ?? undefined,
          attempt: task.attempt,
          checkpointIntervalMs: registered.checkpointIntervalMs,
          memoryLimitBytes: resolveMemoryLimitBytes(registered, this.#memoryLimitMb),
        });
        this.#armTimeout(run);
      },
      undo: () => {
        this.#runs.delete(id);
        this.#slotRuns.delete(slot);
        this.#countRunning(name, -1);
        this.#pool.release(slot);
        this.#dispatcher.requeueAfterFailedStart({ id, name, priority: task.priority });
        this.#dispatcher.request();
      },
    });
  }

  #armTimeout(run: LiveRun): void {
    const limit = run.task.timeoutMs;
    if (limit === undefined) return;
    run.timeoutTimer = setTimeout(
      () => {
        run.timeoutTimer = undefined;
        if (run.requested === "stop" || run.requested === "restart" || run.parked) return;
        run.cause = "timeout";
        this.#askToStop(run, `timed out after ${limit} ms`);
      },
      Math.max(0, limit - run.usedMs),
    );
  }

  // ── Messages from workers ──────────────────────────────────────────────────────────────

  #onWorkerMessage(slot: TaskSlot, message: FromWorker): void {
    if (message.type === "ready") return;
    const run = this.#slotRuns.get(slot);
    if (!run || run.taskId !== message.taskId) return;
    switch (message.type) {
      case "progress":
        if (!run.detached) {
          const { done, total, message: text } = message;
          this.#telemetry.progress(run.taskId, { done, total: total ?? null, message: text ?? null });
        }
        return;
      case "log":
        this.#telemetry.log(run.taskId, message.level, message.message, message.at);
        return;
      case "checkpoint":
        if (!run.detached) this.#telemetry.checkpoint(run.taskId, message.state);
        return;
      case "paused":
        this.#commits.defer(`the pause of task ${run.taskId}`, () =>
          this.#writes.run(`pause of task ${run.taskId}`, () => this.#onPaused(run, message.state)),
        );
        return;
      case "request":
        if (!run.detached) this.#onSelfRequest(run, message.action, message.reason);
        return;
      case "finished":
      case "failed":
      case "stopped":
      case "released":
        this.#commits.defer(`the end of task ${run.taskId}`, () => this.#endRun(run, message));
        return;
      case "memory":
        this.#options.logger.warn(`task ${run.taskId} is over its memory limit; its ${slot.kind} is ended`, {
          usedBytes: message.usedBytes,
          limitBytes: message.limitBytes,
          measured: message.measured,
        });
        this.#pool.terminate(slot);
        this.#endRun(run, { type: "failed", taskId: run.taskId, error: memoryLimitError(message) });
        return;
      default: {
        const unknown: never = message;
        this.#options.logger.warn("unknown message from a worker", { message: unknown });
      }
    }
  }

  #onSelfRequest(run: LiveRun, action: "pause" | "stop" | "restart", reason: string | undefined): void {
    try {
      this.#control(action, run.taskId, { ...TASK_ITSELF, reason: reason ?? null });
    } catch (error) {
      if (!(error instanceof KilnError)) throw error;
      this.#telemetry.log(
        run.taskId,
        "warn",
        `the task's own ${action} request was refused: ${error.message}`,
        Date.now(),
      );
    }
  }

  #onPaused(run: LiveRun, state: unknown): void {
    // A kept pause written late must not touch a run that has ended since.
    if (run.detached || run.parked || this.#slotRuns.get(run.slot) !== run) return;
    if (run.requested !== "pause" && run.cause !== "shutdown") return; // withdrawn, or a stop is on its way
    this.#telemetry.flushOrThrow();
    clearRunTimers(run);
    if (run.requested === "pause") {
      this.#transitions.paused(run.taskId, state, run.requestReason, run.requestBy);
    } else {
      const reason = "paused at a checkpoint for shutdown; resumes on the next start";
      this.#transitions.requeued(run.taskId, "RUNNING", reason, ENGINE, state);
    }
    run.usedMs += performance.now() - run.segmentStart;
    run.requested = undefined;
    run.parked = true;
    this.#parkedOrder.push(run);
    this.#countRunning(run.task.name, -1);
    this.#releaseExcessParked();
    this.#dispatcher.request();
  }

  /** Keeps at most `maxParkedWorkers` paused tasks on live workers; older ones give theirs back. */
  #releaseExcessParked(): void {
    this.#parkedOrder = this.#parkedOrder.filter((run) => run.parked && !run.detached);
    while (this.#parkedOrder.length > this.#options.maxParkedWorkers && this.#state === "running") {
      const oldest = this.#parkedOrder.shift();
      if (!oldest) break;
      oldest.detached = true;
      this.#runs.delete(oldest.taskId);
      oldest.slot.post({ type: "release" });
    }
  }

  #onWorkerCrash(slot: TaskSlot, exitCode: number | null, signal?: string | null): void {
    const run = this.#slotRuns.get(slot);
    if (!run) return;
    const detail = slot.lastError ? `: ${slot.lastError}` : "";
    const how = exitCode === null ? `killed by ${signal ?? "a signal"}` : `code ${exitCode}`;
    this.#options.logger.warn(
      `${slot.kind} running task ${run.taskId} exited unexpectedly (${how})${detail}`,
    );
    this.#endRun(run, {
      type: "failed",
      taskId: run.taskId,
      error: {
        name: "WorkerCrashed",
        message: `its ${slot.kind} exited unexpectedly (${how})${detail}`,
        retryable: true,
      },
    });
  }

  /** The worker reported (or was made to report) the end of a run: decide the task's status. */
  #endRun(run: LiveRun, end: RunEnd, cause?: "shutdown"): void {
    if (this.#slotRuns.get(run.slot) !== run) return;
    clearRunTimers(run);
    this.#slotRuns.delete(run.slot);
    if (this.#runs.get(run.taskId) === run) this.#runs.delete(run.taskId);
    if (!run.parked) this.#countRunning(run.task.name, -1);
    this.#pool.release(run.slot);
    if (!run.detached && !run.parked) {
      // If the database refuses the write, the outcome is kept and written later; the row
      // stays RUNNING meanwhile, and the task never runs twice in this process.
      this.#writes.run(`end of task ${run.taskId}`, () => {
        this.#telemetry.flushOrThrow();
        this.#settlement.settle(run, end, cause);
      });
    }
    this.#dispatcher.request();
  }
}
