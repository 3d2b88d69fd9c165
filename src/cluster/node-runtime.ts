import type { GuardedStore } from "../engine/commit/storage-guard.ts";
import { Unit } from "../engine/commit/unit.ts";
import type { EventHub } from "../engine/events.ts";
import { requestedAction } from "../engine/lifecycle/run-phase.ts";
import { ENGINE } from "../engine/lifecycle/transitions.ts";
import type { Logger } from "../engine/logger.ts";
import type { ClaimDispatcher } from "../engine/queue/claim-dispatch.ts";
import type { RunExecutor } from "../engine/runs/run-executor.ts";
import type { RunFences } from "../engine/runs/run-fences.ts";
import type { ClusterMessage, ClusterStore, TaskRecord, TelemetryBatch } from "../store/index.ts";
import type { DeletedTask } from "../store/store.ts";
import type { RequestedAction } from "../task/index.ts";
import { NewsOutbox } from "./news-outbox.ts";
import type { NodeIdentity } from "./node-identity.ts";
import { deletedTasks } from "./node-news.ts";
import type { NodeRecord } from "./node-record.ts";
import { OtherNodesEvents } from "./other-nodes-events.ts";
import type { ClusterTuning } from "./tuning.ts";

/** Expired leases rescued per transaction. */
const RESCUE_BATCH = 500;

export interface NodeRuntimeParts {
  cluster: ClusterStore;
  guard: GuardedStore;
  hub: EventHub;
  node: NodeIdentity;
  tuning: ClusterTuning;
  concurrency: number;
  fences: RunFences;
  executor: RunExecutor;
  dispatcher: ClaimDispatcher;
  logger: Logger;
  /** Puts expired runs (locked in `unit`) back where they belong, fenced by their old claims. */
  rescue(unit: Unit, tasks: readonly TaskRecord[], interruptedBy: string): Promise<void>;
  /** Tasks another node deleted (retention, a delete): this node's counts forget them too. */
  otherNodeDeleted(tasks: DeletedTask[]): void;
  /** This node became or stopped being the leader, or it is no longer (or again) alone. */
  changed(): void;
  /** A heartbeat was answered. */
  beaten(): void;
}

/**
 * This node's part in the cluster protocol on a database nodes share: its row and heartbeat,
 * which renews its runs' leases in the same statement and brings back what was asked of them;
 * the leader's term and its upkeep (the rescue of expired leases, the removal of silent nodes);
 * and the notifications that wake other nodes sooner (ready tasks, control requests, history).
 * Every decision is a row: a lost notification delays, it never loses anything.
 */
export class NodeRuntime {
  readonly #otherNodes: OtherNodesEvents;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #heartbeating: Promise<void> | undefined;
  #leader = false;
  #upkeeping: Promise<void> | undefined;
  /** Set when a heartbeat failed; the next one that succeeds notes when the database was back. */
  #unreachable = false;
  #reconnectedAt: number | undefined;
  #upkeepTimer: ReturnType<typeof setInterval> | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  /** Nodes in the cluster as of the last heartbeat: alone, a node sends no notifications. */
  #alone = false;
  readonly #outbox: NewsOutbox;

  constructor(private readonly parts: NodeRuntimeParts) {
    this.#otherNodes = new OtherNodesEvents(parts.cluster, parts.hub, parts.logger);
    this.#outbox = new NewsOutbox(parts.node.id, parts.cluster, parts.logger, () => this.#alone);
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Whether this node was the only one registered at its last heartbeat. */
  get alone(): boolean {
    return this.#alone;
  }

  /**
   * Registers the node, takes over what dead nodes on this host left (their process is gone, so
   * their leases need not run out first), listens, and, as leader, rescues at once.
   */
  async start(): Promise<void> {
    const { cluster, node, concurrency, logger } = this.parts;
    await cluster.registerNode(node, concurrency);
    for (const other of await cluster.listNodes()) {
      if (other.id === node.id || other.host !== node.host) continue;
      // The same pid is this process (another manager in it) unless the node started before
      // this process did: then it was an earlier process with this pid (a restarted container).
      const earlierSelf = other.pid === node.pid && other.startedAt < performance.timeOrigin;
      if (earlierSelf || (other.pid !== node.pid && !processAlive(other.pid))) {
        await cluster.retireNode(other.id);
        logger.info(
          `node ${other.id} on this host is gone (no process ${other.pid}); its runs are rescued now`,
        );
      }
    }
    this.#unsubscribe = this.parts.hub.subscribe((event) => this.#outbox.observe(event));
    this.#unlisten = await cluster.listen(
      (message) => this.#onMessage(message),
      () => {
        // After a (re)connect, what was missed meanwhile: claim, and reconcile requests.
        this.parts.dispatcher.wake();
        void this.beat();
      },
      {
        probeEveryMs: this.parts.tuning.heartbeatMs,
        onDeaf: (silentMs) =>
          logger.warn(`the LISTEN connection has heard nothing for ${silentMs} ms; listening on a new one`),
      },
    );
    await this.beat();
    this.#heartbeatTimer = setInterval(() => {
      this.#fenceExpired();
      void this.beat();
    }, this.parts.tuning.heartbeatMs);
    this.#heartbeatTimer.unref?.();
    this.#upkeepTimer = setInterval(() => void this.upkeep(), this.parts.tuning.rescueMs);
    this.#upkeepTimer.unref?.();
  }

  /** One heartbeat, then the leader's term and its upkeep when due. Never rejects. */
  beat(): Promise<void> {
    this.#heartbeating ??= this.#beatNow()
      .catch((error: unknown) => {
        this.#unreachable = true;
        this.parts.logger.warn("the heartbeat failed; the next one tries again", { error: String(error) });
      })
      .finally(() => {
        this.#heartbeating = undefined;
      });
    return this.#heartbeating;
  }

  async #beatNow(): Promise<void> {
    const { cluster, node, tuning, fences, executor, logger } = this.parts;
    const held = fences.held();
    let sentAt = performance.now();
    let reply = await cluster.heartbeat(node.id, executor.running, held, tuning.leaseMs);
    if (this.#unreachable) {
      this.#unreachable = false;
      this.#reconnectedAt = performance.now();
    }
    if (!reply.registered) {
      if (this.#stopped) return;
      // Taken for dead (silent past a lease): registered again, it keeps the runs whose leases
      // still hold, and ends those another node may have taken.
      logger.warn(`node ${node.id} was removed for a late heartbeat; it registers again`);
      await cluster.registerNode(node, this.parts.concurrency);
      sentAt = performance.now();
      reply = await cluster.heartbeat(node.id, executor.running, held, tuning.leaseMs);
    }
    fences.renewed(reply.renewed.keys(), sentAt);
    for (const run of held) {
      if (reply.renewed.has(run.id) || !fences.holds(run.id)) continue;
      // Its lease ran out and another node took the task (or will): this run must not go on.
      if (executor.abandon(run.id))
        logger.warn(`task ${run.id}: this node lost its lease; its run here is ended, unwritten`);
    }
    for (const [id, action] of reply.renewed) if (action) this.#applyRequest(id, action);
    this.parts.beaten();
    const alone = reply.nodes <= 1;
    if (alone !== this.#alone) {
      this.#alone = alone;
      this.parts.changed();
    }
    // From the first heartbeat on, start-up included: a node alone rescues its own dead before it claims.
    if (!this.#stopped) await this.#lead();
  }

  async #lead(): Promise<void> {
    const { cluster, node, tuning, logger } = this.parts;
    const leader = await cluster.claimLeadership(node.id, tuning.leaseMs);
    if (leader !== this.#leader) {
      this.#leader = leader;
      logger.info(leader ? `node ${node.id} is the leader` : `node ${node.id} is no longer the leader`);
      this.parts.changed();
      // A new leader looks for dead nodes' runs at once, not a rescue interval later.
      if (leader) void this.upkeep();
    }
  }

  /**
   * The leader's upkeep, on a timer of its own every `rescueMs` (not after heartbeats, which
   * would stretch the interval to the next heartbeat): silent nodes removed, expired runs
   * rescued. Never rejects; one pass at a time.
   */
  upkeep(): Promise<void> {
    if (!this.#leader || this.#stopped) return Promise.resolve();
    this.#upkeeping ??= this.#upkeepNow()
      .catch((error: unknown) =>
        this.parts.logger.warn("the leader's rescue failed; the next one tries again", {
          error: String(error),
        }),
      )
      .finally(() => {
        this.#upkeeping = undefined;
      });
    return this.#upkeeping;
  }

  async #upkeepNow(): Promise<void> {
    const { cluster, node, tuning, logger } = this.parts;
    // Just back from losing the database, the leader is not the only one: every node missed
    // its heartbeats, and their leases ran out with nobody dead. They get a lease to renew.
    if (this.#reconnectedAt !== undefined && performance.now() - this.#reconnectedAt < tuning.leaseMs) return;
    // The same after a restart of the server itself, which this leader may have slept through
    // between two heartbeats while the other nodes' fell into it.
    if ((await cluster.serverUptimeMs()) < 2 * tuning.leaseMs) return;
    for (const silent of await cluster.silentNodes(tuning.leaseMs)) {
      if (silent === node.id) continue;
      await cluster.removeNode(silent);
      logger.warn(
        `node ${silent} stopped heartbeating; it is removed, and its runs are rescued as their leases end`,
      );
    }
    await this.rescueExpired();
  }

  /**
   * A node that could not renew a run's lease for a whole lease (cut off from the database,
   * stalled) must assume the leader took it: the run's worker is ended, so that its code does
   * not go on beside the run that resumed elsewhere. Its writes would be refused anyway.
   */
  #fenceExpired(): void {
    const { fences, executor, tuning, logger } = this.parts;
    for (const id of fences.expired(performance.now(), tuning.leaseMs)) {
      if (executor.abandon(id))
        logger.warn(
          `task ${id}: no heartbeat renewed its lease for ${tuning.leaseMs} ms; its run here is ended`,
        );
    }
  }

  /** The leader's rescue: every run whose lease expired goes back where it belongs. */
  async rescueExpired(): Promise<number> {
    const { guard, hub, fences, logger } = this.parts;
    let total = 0;
    for (;;) {
      const rescued = await Unit.run(guard, hub, async (unit) => {
        const expired = (await unit.tx.lockExpiredLeases?.(RESCUE_BATCH)) ?? [];
        for (const task of expired) fences.rescuing(task);
        unit.afterCommit(() => {
          for (const task of expired) fences.rescued(task.id);
        });
        unit.onRollback(() => {
          for (const task of expired) fences.rescued(task.id);
        });
        for (const task of expired) {
          logger.warn(`task ${task.id}: the lease of node ${task.node} expired; it is rescued`);
        }
        await this.parts.rescue(unit, expired, `the loss of node ${expired[0]?.node ?? "?"}`);
        return expired.length;
      });
      total += rescued;
      if (rescued < RESCUE_BATCH) return total;
    }
  }

  /** A request stored for one of this node's runs (read from its row): the run is told. */
  #applyRequest(id: string, action: RequestedAction): void {
    const { executor, logger } = this.parts;
    const run = executor.live(id);
    if (!run || run.phase.kind === "parked" || run.phase.kind === "detached") return;
    if (requestedAction(run.phase) === action) return;
    try {
      executor.request(run, action, null, ENGINE);
    } catch (error) {
      logger.warn(`task ${id}: the ${action} asked on another node could not be applied`, {
        error: String(error),
      });
    }
  }

  /** A control notification for a run of this node: its row says what is asked now. */
  async #reconcile(id: string): Promise<void> {
    const { guard, executor } = this.parts;
    const run = executor.live(id);
    if (!run) return;
    const task = await guard.getTask(id);
    if (task?.status !== "RUNNING" || task.node !== this.parts.node.id) return;
    if (task.requestedAction) this.#applyRequest(id, task.requestedAction);
    else if (run.phase.kind === "pause-requested") executor.withdrawPause(run);
  }

  /** Tells the node running `task` that a request was stored for it. */
  async announceRequest(task: TaskRecord): Promise<void> {
    if (!task.node) return;
    await this.parts.cluster.notify("kiln_control", JSON.stringify({ n: task.node, t: task.id }));
  }

  #onMessage({ channel, payload }: ClusterMessage): void {
    if (this.#stopped) return;
    try {
      if (channel === "kiln_ready") {
        if (payload !== this.parts.node.id) this.parts.dispatcher.wake();
        return;
      }
      const message = JSON.parse(payload) as {
        n?: string;
        t?: unknown;
        p?: unknown;
        l?: unknown;
        d?: unknown;
        r?: unknown;
      };
      if (channel === "kiln_control") {
        if (message.n === this.parts.node.id && typeof message.t === "string")
          void this.#reconcile(message.t).catch(() => undefined);
        return;
      }
      if (channel === "kiln_events" && message.n !== this.parts.node.id) {
        if (message.r === 1) this.parts.dispatcher.wake();
        const list = (value: unknown) => (Array.isArray(value) ? (value as string[]) : []);
        this.#otherNodes.heard({
          history: list(message.t),
          progress: list(message.p),
          logs: list(message.l),
        });
        if (Array.isArray(message.d)) this.parts.otherNodeDeleted(deletedTasks(message.d));
      }
    } catch (error) {
      this.parts.logger.warn(`a ${channel} notification could not be read`, { error: String(error) });
    }
  }

  /** A tick of progress and log lines was written: other nodes' streams read them back. */
  telemetryWritten(batch: TelemetryBatch): void {
    if (!this.#stopped) this.#outbox.telemetryWritten(batch);
  }

  /** Tasks this node deleted: other nodes' counts forget them too. */
  deleted(tasks: readonly DeletedTask[]): void {
    if (!this.#stopped) this.#outbox.deleted(tasks);
  }

  /** The nodes, as the database has them. */
  nodes(): Promise<NodeRecord[]> {
    return this.parts.cluster.listNodes();
  }

  /** Marks the node as stopping (its runs are being handed back); heartbeats go on until `stop`. */
  async stopping(): Promise<void> {
    await this.parts.cluster.setNodeStatus(this.parts.node.id, "stopping").catch(() => undefined);
  }

  /** Stops heartbeating and listening, and removes the node's row and term: others take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    if (this.#upkeepTimer) clearInterval(this.#upkeepTimer);
    this.#heartbeatTimer = undefined;
    this.#upkeepTimer = undefined;
    await this.#heartbeating;
    await this.#upkeeping;
    this.#unsubscribe?.();
    await this.#outbox.close();
    this.#otherNodes.stop();
    await this.#unlisten?.().catch(() => undefined);
    await this.parts.cluster.deregisterNode(this.parts.node.id).catch((error: unknown) =>
      this.parts.logger.warn("removing this node's row failed; it expires with its heartbeat", {
        error: String(error),
      }),
    );
    // Its tasks handed back at shutdown can be claimed by the others now.
    await this.#outbox.announceReady();
  }
}

/** Whether a process with this pid runs on this host (signal 0 checks without sending one). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
