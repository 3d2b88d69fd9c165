import type { HeldRun, RunFence } from "../../store/index.ts";

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

  /** Progress and checkpoints of these tasks land only while their claims hold. */
  forTelemetry(): ReadonlyMap<string, RunFence> | undefined {
    if (this.#held.size === 0) return undefined;
    const fences = new Map<string, RunFence>();
    for (const [id, epoch] of this.#held) fences.set(id, { node: this.node, epoch });
    return fences;
  }

  /** The rescue writes about a dead node's run with that node's claim: a live owner's renewal wins. */
  rescuing(task: { id: string; node: string | null; leaseEpoch: number }): void {
    if (task.node !== null) this.#rescued.set(task.id, { node: task.node, epoch: task.leaseEpoch });
  }

  rescued(taskId: string): void {
    this.#rescued.delete(taskId);
  }
}
