import type { HeldRun, RunFence, TaskProgress, TelemetryBatch } from "../../store/index.ts";

/**
 * The claims this node's writes about runs are fenced with, by task: its own runs (renewed by
 * its heartbeat), and, while the leader rescues them, the claims of a dead node's runs. Empty on
 * SQLite, where one node needs no fencing.
 */
export class RunFences {
  readonly #held = new Map<string, number>();
  readonly #rescued = new Map<string, RunFence>();

  constructor(readonly node: string) {}

  /** This node claimed the task with `epoch`. */
  hold(taskId: string, epoch: number): void {
    this.#held.set(taskId, epoch);
  }

  /** The run is over here (ended, paused, handed back or lost). */
  release(taskId: string): void {
    this.#held.delete(taskId);
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

  /** The runs whose leases the heartbeat renews. */
  held(): HeldRun[] {
    return [...this.#held].map(([id, epoch]) => ({ id, epoch }));
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
