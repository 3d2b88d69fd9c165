import { keyWaitReason, NAME_WIDE_KEY, rateWaitReason } from "../../flow/index.ts";
import type { ClaimRequest, TaskRecord, TaskWrites } from "../../store/index.ts";
import type { StartPlan } from "../commit/turn-commits.ts";
import type { Unit } from "../commit/unit.ts";
import type { RegisteredTask, TaskRegistry } from "../registry.ts";
import type { TaskDispatch, WaitingTask, WaitOverlay } from "./task-dispatch.ts";

/** setTimeout's longest delay; a task due later is found by the polling anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a claim whose commit failed waits before the next try. */
const RETRY_MS = 500;
/** How soon a claim that found a limited name being claimed by another node tries it again. */
const BUSY_RETRY_MS = 50;
/** Ready rows of keys with room that one flow claim looks at, at most. */
const FLOW_CANDIDATES = 1000;
/** Tasks stored without keys given theirs per claim, at most. */
const KEY_FILL_BATCH = 200;

/** What held a flow-limited name's tasks back at its last claim on this node. */
interface HeldBack {
  /** Concurrency keys with every slot held. */
  fullKeys: Set<string>;
  /** Rate keys whose window is full, with the earliest next start (database clock). */
  ratedKeys: Map<string, number>;
}

const hasFlowRules = (registered: RegisteredTask) =>
  registered.flow.rateLimit !== null || registered.flow.concurrency?.kind === "key";

export interface ClaimHooks {
  /** False once the manager is stopping: nothing is claimed then. */
  accepting(): boolean;
  /** Runs of any name that fit now (the node's concurrency). */
  freeSlots(): number;
  /** Starts the run of a task claimed in `unit`. */
  startClaimed(unit: Unit, task: TaskRecord): Promise<void>;
  /** Asks for a commit at the end of this turn that claims what there is room for. */
  requestDispatch(): void;
  /** PENDING tasks, as this node counts them (for stats). */
  queued(): number;
}

export interface ClaimOptions {
  node: string;
  leaseMs: number;
  claimPollMs: number;
}

/**
 * Dispatch for nodes that share a database: the queue is the database's PENDING rows, and a node
 * claims as many as it has free slots (`FOR UPDATE SKIP LOCKED`, in priority then id order), in
 * the same commit as its other writes. It claims when told that tasks may be ready (a create or
 * requeue here, a notification from another node, a freed slot) and, as the fallback for a lost
 * notification or a delayed task coming due, every `claimPollMs`. After a claim that found fewer
 * tasks than it asked for, it waits for such news before asking again.
 *
 * Flow rules hold across all nodes: the claims of a name with `static concurrency`, a rate limit
 * or a per-key limit take turns under a lock and count its runs per key and its recent starts in
 * the database (`claimLimited`, `claimFlow`).
 */
export class ClaimDispatcher implements TaskDispatch {
  /** What held each flow-limited name back at its last claim here: its tasks' wait reasons. */
  readonly #held = new Map<string, HeldBack>();
  /** Flow-limited names whose tasks all have their keys stored (see #fillKeys). */
  readonly #keyed = new Set<string>();
  /** Paused names known here, with what their tasks show (the claims read the pauses' rows). */
  readonly #pausedNames = new Map<string, string>();
  #maybeReady = true;
  #stopped = false;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #dueTimer: ReturnType<typeof setTimeout> | undefined;
  #dueAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly registry: TaskRegistry,
    private readonly hooks: ClaimHooks,
    private readonly options: ClaimOptions,
  ) {}

  get size(): number {
    return this.hooks.queued();
  }

  /** Begins the polling that covers lost notifications and delayed tasks. */
  startPolling(): void {
    if (this.#stopped || this.#pollTimer) return;
    this.#pollTimer = setInterval(() => this.wake(), this.options.claimPollMs);
    this.#pollTimer.unref?.();
  }

  /** Tasks may be ready: the next dispatch claims. */
  wake(): void {
    this.#maybeReady = true;
    this.request();
  }

  enqueue(task: TaskRecord): void {
    const due = task.runAt ?? 0;
    if (due > Date.now()) this.#wakeAt(due);
    else this.wake();
  }

  enqueueIfSet(task: TaskRecord | undefined): void {
    if (task?.status === "PENDING") this.enqueue(task);
  }

  remove(_id: string): void {}

  /**
   * What held the task's name back at this node's last claim of it. A rate-limited task's `runAt`
   * is the time the claim computed, on the database's clock like the reason and the start times
   * in the history: every node that claims the name shows the same time, and nothing is written.
   */
  waitOverlay(task: WaitingTask): WaitOverlay | undefined {
    const paused = this.#pausedNames.get(task.taskName);
    if (paused !== undefined) return { reason: paused };
    const held = this.#held.get(task.taskName);
    const flow = this.registry.get(task.taskName)?.flow;
    if (!held || !flow) return undefined;
    const concurrencyKey = task.concurrencyKey ?? NAME_WIDE_KEY;
    if (flow.concurrency?.kind === "key" && held.fullKeys.has(concurrencyKey)) {
      return { reason: keyWaitReason(concurrencyKey, flow.concurrency.limit) };
    }
    const rateKey = task.rateKey ?? NAME_WIDE_KEY;
    const notBefore = held.ratedKeys.get(rateKey);
    if (!flow.rateLimit || notBefore === undefined) return undefined;
    // A task delayed past its window keeps its own time: it may start only then.
    const runAt = Math.max(notBefore, task.runAt ?? 0);
    return { reason: rateWaitReason(flow.rateLimit, rateKey, notBefore), runAt };
  }

  // The pause is a row every node's claim reads; the reason is kept for what the tasks show.
  pauseName(name: string, reason: string): void {
    this.#pausedNames.set(name, reason);
  }

  setPausedNames(names: ReadonlyMap<string, string>): void {
    const resumed = [...this.#pausedNames.keys()].some((name) => !names.has(name));
    this.#pausedNames.clear();
    for (const [name, reason] of names) this.#pausedNames.set(name, reason);
    if (resumed) this.wake();
  }

  resumeName(name: string): void {
    this.#pausedNames.delete(name);
    this.wake();
  }

  released(_id: string): void {
    // A key with every slot held may have a slot free now: that is news for the next claim.
    for (const held of this.#held.values()) {
      if (held.fullKeys.size > 0) {
        this.wake();
        return;
      }
    }
    this.request();
  }

  requeueAfterFailedStart(): void {
    this.#wakeAt(Date.now() + RETRY_MS);
  }

  adoptOrphans(_name: string): void {
    this.wake();
  }

  request(): void {
    if (this.#stopped) return;
    this.hooks.requestDispatch();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    if (this.#dueTimer) clearTimeout(this.#dueTimer);
    this.#pollTimer = undefined;
    this.#dueTimer = undefined;
  }

  armDueTimer(): void {}

  plan(): StartPlan | undefined {
    if (!this.#maybeReady || !this.hooks.accepting() || this.hooks.freeSlots() <= 0) return undefined;
    return (unit) => [() => this.#claim(unit)];
  }

  async #claim(unit: Unit): Promise<void> {
    const free = this.hooks.freeSlots();
    if (free <= 0) return;
    const tx = unit.tx;
    const base = { node: this.options.node, leaseMs: this.options.leaseMs, now: Date.now() };
    const plain: string[] = [];
    const limited: RegisteredTask[] = [];
    for (const registered of this.registry.all()) {
      if (hasFlowRules(registered) || registered.concurrency !== undefined) limited.push(registered);
      else plain.push(registered.name);
    }
    unit.onRollback(() => this.#wakeAt(Date.now() + RETRY_MS));
    let room = free;
    let drained = true;
    let busy = false;
    const claimed: TaskRecord[] = [];
    const take = (rows: TaskRecord[], asked: number) => {
      claimed.push(...rows);
      room -= rows.length;
      if (rows.length >= asked) drained = false;
    };
    if (plain.length > 0 && tx.claimReady) {
      take(await tx.claimReady({ ...base, limit: room, names: plain }), room);
    }
    // In name order (registry.all's), so that two nodes take the names' locks in the same order.
    for (const registered of limited) {
      if (room <= 0) break;
      const request = { ...base, limit: room, names: [registered.name] };
      let rows: TaskRecord[] | null = [];
      if (hasFlowRules(registered)) {
        await this.#fillKeys(unit, registered);
        rows = await this.#claimFlow(tx, registered, request);
      } else if (tx.claimLimited) {
        const classLimit = registered.concurrency ?? 0;
        rows = await tx.claimLimited({ ...request, name: registered.name, classLimit });
      }
      // Claimed elsewhere right now: its tasks may still fit here, once that claim is committed.
      if (rows === null) busy = true;
      else take(rows, room);
    }
    if (busy) this.#wakeAt(Date.now() + BUSY_RETRY_MS);
    if (room <= 0) drained = false;
    if (drained) this.#maybeReady = false;
    for (const task of claimed) await this.hooks.startClaimed(unit, task);
  }

  /**
   * Gives the tasks of a name stored without keys (created before its class had its keyed rule,
   * or before kiln stored keys) the keys its class computes now, a batch per claim, until none is
   * left; until then they would count under the name-wide key.
   */
  async #fillKeys(unit: Unit, registered: RegisteredTask): Promise<void> {
    const tx = unit.tx;
    if (this.#keyed.has(registered.name) || !tx.unkeyedTasks || !tx.setTaskKeys) return;
    const tasks = await tx.unkeyedTasks(registered.name, KEY_FILL_BATCH);
    const keys = [];
    for (const task of tasks) {
      const computed = registered.taskKeys(task.params);
      if (computed) keys.push({ id: task.id, ...computed });
    }
    await tx.setTaskKeys(keys);
    if (tasks.length < KEY_FILL_BATCH) unit.afterCommit(() => this.#keyed.add(registered.name));
  }

  /**
   * Ready tasks of a name with a rate or per-key limit, claimed as its limits allow across all
   * nodes (the database counts them); what still holds the name back is kept for the reasons its
   * tasks show, and a full rate window wakes this node when it may start again.
   */
  async #claimFlow(
    tx: TaskWrites,
    registered: RegisteredTask,
    request: ClaimRequest,
  ): Promise<TaskRecord[] | null> {
    if (!tx.claimFlow) return [];
    const { rateLimit, concurrency } = registered.flow;
    const claim = await tx.claimFlow({
      ...request,
      name: registered.name,
      classLimit: registered.concurrency ?? null,
      keyLimit: concurrency?.kind === "key" ? concurrency.limit : null,
      rate: rateLimit ? { count: rateLimit.count, perMs: rateLimit.perMs } : null,
      candidates: FLOW_CANDIDATES,
    });
    if (claim === null) return null;
    if (claim.fullKeys.length === 0 && claim.ratedKeys.length === 0) this.#held.delete(registered.name);
    else
      this.#held.set(registered.name, {
        fullKeys: new Set(claim.fullKeys),
        ratedKeys: new Map(claim.ratedKeys),
      });
    let soonest = Number.POSITIVE_INFINITY;
    for (const [, notBefore] of claim.ratedKeys) soonest = Math.min(soonest, notBefore);
    // The window is on the database's clock: the wait is measured there, then run on this one.
    if (soonest !== Number.POSITIVE_INFINITY) this.#wakeAt(Date.now() + Math.max(0, soonest - claim.now));
    return claim.tasks;
  }

  #wakeAt(due: number): void {
    if (this.#stopped || due >= this.#dueAt) return;
    if (this.#dueTimer) clearTimeout(this.#dueTimer);
    this.#dueAt = due;
    this.#dueTimer = setTimeout(
      () => {
        this.#dueAt = Number.POSITIVE_INFINITY;
        this.#dueTimer = undefined;
        this.wake();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())),
    );
  }
}
