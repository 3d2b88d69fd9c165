import { fileURLToPath } from "node:url";
import type { NodeIdentity } from "../cluster/node-identity.ts";
import { NodeRuntime } from "../cluster/node-runtime.ts";
import { resolveClusterTuning } from "../cluster/tuning.ts";
import type { DatabaseOwnerLock, TaskRecord } from "../store/index.ts";
import type { TaskClass } from "../task/index.ts";
import { openStore, sqlitePathOf } from "./commit/open-store.ts";
import { GuardedStore } from "./commit/storage-guard.ts";
import { TaskLanes } from "./commit/task-lanes.ts";
import { TurnCommits } from "./commit/turn-commits.ts";
import { Unit } from "./commit/unit.ts";
import { WriteRetry } from "./commit/write-retry.ts";
import { CreateBatch } from "./creation/create-batch.ts";
import { TaskCreation } from "./creation/task-creation.ts";
import { EventHub } from "./events.ts";
import { DependencyWatch } from "./lifecycle/dependency-watch.ts";
import type { ControlAction } from "./lifecycle/lifecycle.ts";
import { restoreActiveTasks } from "./lifecycle/restore.ts";
import { RunSettlement } from "./lifecycle/run-settlement.ts";
import { SelfRestarts } from "./lifecycle/self-restarts.ts";
import { TaskControl } from "./lifecycle/task-control.ts";
import { Transitions } from "./lifecycle/transitions.ts";
import { stderrLogger } from "./logger.ts";
import type { ControlOptions, ControlResult, TaskManagerOptions } from "./manager-options.ts";
import { Observers } from "./observers.ts";
import { ClaimDispatcher } from "./queue/claim-dispatch.ts";
import { Dispatcher } from "./queue/dispatcher.ts";
import type { TaskDispatch } from "./queue/task-dispatch.ts";
import { TaskRegistry } from "./registry.ts";
import { resolveFileAccess } from "./runs/file-access.ts";
import { checkMemoryLimitMb } from "./runs/memory-limit.ts";
import { WorkerPool } from "./runs/pool.ts";
import { RunExecutor } from "./runs/run-executor.ts";
import { RunFences } from "./runs/run-fences.ts";
import type { LiveRun } from "./runs/runs.ts";
import { resolveValueLimits } from "./runs/value-limits.ts";
import { WorkerMessages } from "./runs/worker-messages.ts";
import { EndedTally } from "./upkeep/ended-tally.ts";
import { RetentionPruner } from "./upkeep/retention.ts";
import { TaskCounts } from "./upkeep/task-counts.ts";
import { TelemetryBuffer } from "./upkeep/telemetry.ts";

/** What the parts need back from the manager that owns them. */
export interface ManagerHooks {
  accepting(): boolean;
  control(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult>;
  spawn(run: LiveRun, name: string, paramsJson: string): Promise<string[]>;
  /** This node became or stopped being the leader, or other nodes joined or left. */
  clusterChanged(): void;
  /** A heartbeat was answered: what other nodes may have changed can be read again. */
  heartbeat(): void;
}

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

export function resolveOptions(options: TaskManagerOptions, concurrency: number) {
  return {
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
    preloaded: new Set<TaskClass>(options.preloadedTasks ?? []),
    cluster: resolveClusterTuning(options.cluster),
  };
}

/** The engine's parts, wired together: the manager is their API. */
export interface EngineParts {
  guard: GuardedStore;
  ownerLock: DatabaseOwnerLock | undefined;
  ownsStore: boolean;
  registry: TaskRegistry;
  hub: EventHub;
  observers: Observers;
  counts: TaskCounts;
  /** The ends of the last hour in memory; undefined on a database nodes share (read from it instead). */
  ended: EndedTally | undefined;
  telemetry: TelemetryBuffer;
  transitions: Transitions;
  dispatcher: TaskDispatch;
  settlement: RunSettlement;
  commits: TurnCommits;
  creates: CreateBatch<TaskRecord>;
  creation: TaskCreation;
  dependencies: DependencyWatch;
  retention: RetentionPruner | undefined;
  pool: WorkerPool;
  executor: RunExecutor;
  taskControl: TaskControl;
  writes: WriteRetry;
  /** This node's part in the cluster protocol, on a database nodes share; undefined on SQLite. */
  runtime: NodeRuntime | undefined;
}

export function buildParts(
  options: TaskManagerOptions,
  resolved: ResolvedOptions,
  hooks: ManagerHooks,
  node: NodeIdentity,
): EngineParts {
  const logger = resolved.logger;
  const memoryLimitMb = checkMemoryLimitMb(options.taskMemoryLimitMb);
  const limits = resolveValueLimits(options);
  // Before the store is opened: a root that does not exist must not leave the database locked.
  const fileAccess = resolveFileAccess(options.fileRoots, options.protectedFiles, sqlitePathOf(options));
  const { store, ownerLock, owned } = openStore(options, logger);
  const guard = new GuardedStore(store, logger);
  const cluster = guard.cluster;
  // Nodes sharing a database fence their writes about runs with their claims.
  const fences = cluster ? new RunFences(node.id) : undefined;
  // Made once the parts it needs are; the telemetry writer tells it what it wrote.
  let runtime: NodeRuntime | undefined;
  const registry = new TaskRegistry();
  const lanes = new TaskLanes();
  const hub = new EventHub((error) => logger.error("an event listener threw", { error: String(error) }));
  const counts = new TaskCounts(guard);
  hub.subscribe(counts.observe, { clusterWide: true });
  const ended = cluster === undefined ? new EndedTally() : undefined;
  if (ended) hub.subscribe(ended.observe);
  const observers = new Observers(hub, logger);
  const telemetry = new TelemetryBuffer(
    fences
      ? {
          writeTelemetry: async (batch) => {
            const fenced = fences.fence(batch);
            await guard.writeTelemetry(fenced);
            runtime?.telemetryWritten(fenced);
          },
        }
      : guard,
    hub,
    resolved.telemetryIntervalMs,
    (error) =>
      logger.error("writing progress and logs failed; writing each task's alone", { error: String(error) }),
    (taskId, why) => logger.warn(`progress or log of task ${taskId} dropped`, { why }),
  );
  const transitions = new Transitions(fences);
  let executor: RunExecutor;
  let commits: TurnCommits;
  let messages: WorkerMessages;
  const writes = new WriteRetry(
    logger,
    // Progress, states and log lines first, as before any end: a kept end lands after them.
    async (write) => {
      await telemetry.flushOrThrow();
      await Unit.run(guard, hub, write);
    },
    () => dispatcher.request(),
  );
  const dispatcher: TaskDispatch = cluster
    ? new ClaimDispatcher(
        registry,
        {
          accepting: hooks.accepting,
          freeSlots: () => resolved.concurrency - executor.running,
          startClaimed: (unit, task) => executor.startClaimed(unit, task),
          requestDispatch: () => commits.requestDispatch(),
          queued: () => counts.pendingNow(),
        },
        { node: node.id, leaseMs: resolved.cluster.leaseMs, claimPollMs: resolved.cluster.claimPollMs },
      )
    : new Dispatcher(
        registry,
        {
          accepting: hooks.accepting,
          canRun: (name) => executor.canRun(name),
          hasFreeSlot: () => executor.hasFreeSlot(),
          startRun: (unit, id, name) => executor.start(unit, id, name),
          requestDispatch: () => commits.requestDispatch(),
          recentRateStarts: (name, since, perKey) => guard.recentRateStarts(name, since, perKey),
        },
        logger,
      );
  const selfRestarts = new SelfRestarts();
  const settlement = new RunSettlement(
    transitions,
    (task) => {
      dispatcher.enqueueIfSet(task);
      dispatcher.request();
    },
    selfRestarts,
    logger,
  );
  const creates = new CreateBatch<TaskRecord>({
    requestCreates: () => commits.requestCreates(),
    flush: () => commits.flush(),
  });
  commits = new TurnCommits(
    guard,
    hub,
    lanes,
    writes,
    () => telemetry.flushOrThrow(),
    dispatcher,
    creates,
    logger,
  );
  const dependencies = new DependencyWatch({
    guard,
    hub,
    lanes,
    transitions,
    dispatcher,
    logger,
    alone: cluster === undefined,
  });
  const creation = new TaskCreation(registry, guard, transitions, dispatcher, creates, dependencies);
  const retention =
    options.retainMs === undefined
      ? undefined
      : new RetentionPruner(
          guard,
          options.retainMs,
          logger,
          options.retention,
          (tasks) => {
            counts.deleted(tasks);
            runtime?.deleted(tasks);
          },
          () => runtime?.isLeader ?? true,
        );
  const pool = new WorkerPool(
    resolved.workerUrl,
    {
      onMessage: (host, message) => messages.onMessage(host, message),
      onCrash: (host, exitCode, signal) => messages.onCrash(host, exitCode, signal),
    },
    resolved.concurrency,
    resolved.processCommand,
    fileAccess,
  );
  executor = new RunExecutor(
    { registry, pool, transitions, telemetry, commits, dispatcher, settlement, fences },
    {
      concurrency: resolved.concurrency,
      stopGraceMs: resolved.stopGraceMs,
      // A paused task is no node's: any node may resume it, so none keeps its worker.
      maxParkedWorkers: cluster ? 0 : resolved.maxParkedWorkers,
      memoryLimitMb,
      limits,
      logger,
    },
    {
      accepting: hooks.accepting,
      control: (action, id, controlOptions) => hooks.control(action, id, controlOptions),
      spawn: (run, name, paramsJson) => hooks.spawn(run, name, paramsJson),
    },
  );
  messages = new WorkerMessages(executor, telemetry, pool, commits, hooks, limits, logger, guard);
  runtime =
    cluster && fences && dispatcher instanceof ClaimDispatcher
      ? new NodeRuntime({
          cluster,
          guard,
          hub,
          node,
          tuning: resolved.cluster,
          concurrency: resolved.concurrency,
          fences,
          executor,
          dispatcher,
          logger,
          otherNodeDeleted: (tasks) => counts.deleted(tasks),
          changed: () => hooks.clusterChanged(),
          beaten: () => hooks.heartbeat(),
          rescue: (unit, tasks, interruptedBy) =>
            restoreActiveTasks(
              unit,
              tasks,
              registry,
              transitions,
              settlement,
              (task) => dispatcher.enqueue(task),
              {
                by: interruptedBy,
                asked: "before its node was lost",
              },
            ),
        })
      : undefined;
  const taskControl = new TaskControl({
    store: guard,
    announceRequest: runtime && ((task) => runtime.announceRequest(task)),
    hub,
    lanes,
    transitions,
    executor,
    dispatcher,
    writes,
    selfRestarts,
  });
  return {
    guard,
    ownerLock,
    ownsStore: owned,
    registry,
    hub,
    observers,
    counts,
    ended,
    telemetry,
    transitions,
    dispatcher,
    settlement,
    commits,
    creates,
    creation,
    dependencies,
    retention,
    pool,
    executor,
    taskControl,
    writes,
    runtime,
  };
}
