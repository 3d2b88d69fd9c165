import type { ClaimRequest, TaskRecord, TaskWrites } from "../../store/index.ts";
import type { StartPlan } from "../commit/message-commit.ts";
import type { Unit } from "../commit/unit.ts";
import type { RegisteredTask, TaskRegistry } from "../registry.ts";
import { FlowGate } from "./flow-gate.ts";
import type { TaskDispatch } from "./task-dispatch.ts";

/** setTimeout's longest delay; a task due later is found by the polling anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a claim whose commit failed waits before the next try. */
const RETRY_MS = 500;

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
 * Flow rules: a name's `static concurrency` limit holds across all nodes (its claims take turns
 * under a lock and count its runs); a rate limit and a per-key limit are counted on each node.
 */
export class ClaimDispatcher implements TaskDispatch {
  readonly #gate: FlowGate;
  /** Why tasks this node's flow rules held back wait, until the next claim decides again. */
  readonly #reasons = new Map<string, string>();
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
  ) {
    this.#gate = new FlowGate(registry);
  }

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

  remove(id: string): void {
    this.#gate.forget(id);
    this.#reasons.delete(id);
  }

  waitReason(task: { id: string; taskName: string }): string | undefined {
    return this.#pausedNames.get(task.taskName) ?? this.#reasons.get(task.id);
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

  released(id: string): void {
    this.#gate.release(id);
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
    const capped: RegisteredTask[] = [];
    const gated: RegisteredTask[] = [];
    for (const registered of this.registry.all()) {
      const flow = registered.flow;
      if (flow.rateLimit || flow.concurrency?.kind === "key") gated.push(registered);
      else if (registered.concurrency !== undefined) capped.push(registered);
      else plain.push(registered.name);
    }
    unit.onRollback(() => this.#wakeAt(Date.now() + RETRY_MS));
    let room = free;
    let drained = true;
    const claimed: TaskRecord[] = [];
    const take = (rows: TaskRecord[], asked: number) => {
      claimed.push(...rows);
      room -= rows.length;
      if (rows.length >= asked) drained = false;
    };
    if (plain.length > 0 && tx.claimReady) {
      take(await tx.claimReady({ ...base, limit: room, names: plain }), room);
    }
    // In name order, so that two nodes take the names' locks in the same order.
    capped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const registered of capped) {
      if (room <= 0 || !tx.claimLimited) break;
      const request = { ...base, limit: room, names: [registered.name] };
      take(
        await tx.claimLimited({ ...request, name: registered.name, classLimit: registered.concurrency ?? 0 }),
        room,
      );
    }
    for (const registered of gated) {
      if (room <= 0) break;
      const rows = await this.#claimGated(tx, { ...base, limit: room, names: [registered.name] });
      take(rows, room);
    }
    if (room <= 0) drained = false;
    if (drained) this.#maybeReady = false;
    for (const task of claimed) await this.hooks.startClaimed(unit, task);
  }

  /** Ready tasks of a name with a rate or per-key limit: locked, admitted by this node's gate, claimed. */
  async #claimGated(tx: TaskWrites, request: ClaimRequest): Promise<TaskRecord[]> {
    if (!tx.lockReady || !tx.claimIds) return [];
    const candidates = await tx.lockReady(request);
    const admitted: string[] = [];
    for (const task of candidates) {
      this.#gate.noteTask(task.id, task.taskName, task.params);
      const admission = this.#gate.admit(
        { id: task.id, name: task.taskName, priority: task.priority, runAt: 0 },
        request.now,
      );
      if (admission.start) {
        admitted.push(task.id);
        this.#reasons.delete(task.id);
        continue;
      }
      // Not held here: the row stays PENDING for the next claim, on any node.
      const reason = this.#gate.reason(task.id);
      if (reason !== undefined) this.#reasons.set(task.id, reason);
      this.#gate.forget(task.id);
      if (admission.notBefore !== null) this.#wakeAt(admission.notBefore);
    }
    const claimed = await tx.claimIds(request, admitted);
    // An admitted row that was not claimed after all gives its slot back.
    const took = new Set(claimed.map((task) => task.id));
    for (const id of admitted) if (!took.has(id)) this.#gate.release(id);
    return claimed;
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
