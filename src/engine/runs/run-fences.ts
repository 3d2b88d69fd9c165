import type { HeldRun, RunFence, TaskProgress, TelemetryBatch } from "../../store/index.ts";

/**
 * The claims this node's writes about runs are fenced with, by task: its own runs (renewed by
 * its heartbeat), and, while the leader rescues them, the claims of a dead node's runs. Empty on
 * SQLite, where one node needs no fencing.
 */
export class RunFences {
  readonly #held = new Map<string, number>();
  /**
   * Claims whose transaction has committed, with when: only those can be renewed. A heartbeat
   * reads the rows as they were when it began, so a claim still committing would look lost.
   */
  readonly #committedAt = new Map<string, number>();
  readonly #rescued = new Map<string, RunFence>();

  constructor(readonly node: string) {}

  /** This node claimed the task with `epoch`, in a transaction not committed yet. */
  hold(taskId: string, epoch: number): void {
    this.#held.set(taskId, epoch);
  }

  /** The claim's transaction committed. */
  committed(taskId: string): void {
    if (this.#held.has(taskId)) this.#committedAt.set(taskId, performance.now());
  }

  /** A heartbeat sent at `sentAt` (performance.now) renewed these runs' leases. */
  renewed(taskIds: Iterable<string>, sentAt: number): void {
    for (const id of taskIds) if (this.#committedAt.has(id)) this.#committedAt.set(id, sentAt);
  }

  /**
   * Runs whose lease may have run out by now: not renewed (nor claimed) for `leaseMs` by this
   * node's clock, counted from when the renewing statement was sent, so never late.
   */
  expired(now: number, leaseMs: number): string[] {
    const ids: string[] = [];
    for (const [id, at] of this.#committedAt) if (now - at > leaseMs) ids.push(id);
    return ids;
  }

  /** The run is over here (ended, paused, handed back or lost). */
  release(taskId: string): void {
    this.#held.delete(taskId);
    this.#committedAt.delete(taskId);
  }

  holds(taskId: string): boolean {
    return this.#held.has(taskId);
  }

  /** The fence of a write about the task's run, if it is fenced. */
  get(taskId: string): RunFence | undefined {
    const epoch = this.#held.get(taskId);
    if (epoch !== undefined) return { node: this.node, epoch };
    return this.#rescued.get(taskId);
  }

  /**
   * The runs whose leases a heartbeat sent now renews: those whose claim committed before it, so
   * that the heartbeat's statement sees them. (A claim committing meanwhile has a fresh lease.)
   */
  held(): HeldRun[] {
    const runs: HeldRun[] = [];
    for (const [id, epoch] of this.#held) if (this.#committedAt.has(id)) runs.push({ id, epoch });
    return runs;
  }

  /**
   * A tick's telemetry as this node may write it: progress and checkpoints of its own runs only,
   * each fenced by its claim. A run this node lost (its worker reported before it was ended) has
   * no claim here any more, and what it reported is dropped rather than written over the run
   * that another node carries on.
   */
  fence(batch: TelemetryBatch): TelemetryBatch {
    const fences = new Map<string, RunFence>();
    const progress = new Map<string, TaskProgress>();
    const checkpoints = new Map<string, unknown>();
    for (const [id, value] of batch.progress) {
      const fence = this.get(id);
      if (!fence) continue;
      progress.set(id, value);
      fences.set(id, fence);
    }
    for (const [id, value] of batch.checkpoints) {
      const fence = this.get(id);
      if (!fence) continue;
      checkpoints.set(id, value);
      fences.set(id, fence);
    }
    return { progress, checkpoints, logs: batch.logs, fences };
  }

  /** The rescue writes about a dead node's run with that node's claim: a live owner's renewal wins. */
  rescuing(task: { id: string; node: string | null; leaseEpoch: number }): void {
    if (task.node !== null) this.#rescued.set(task.id, { node: task.node, epoch: task.leaseEpoch });
  }

  rescued(taskId: string): void {
    this.#rescued.delete(taskId);
  }
}
