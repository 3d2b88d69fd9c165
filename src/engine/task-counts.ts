import type { DeletedTask } from "../store/index.ts";
import { TASK_STATUSES, type TaskStatus } from "../task/index.ts";
import type { ManagerEvent } from "./events.ts";

export interface StatusNameCount {
  status: TaskStatus;
  name: string;
  count: number;
}

const key = (status: TaskStatus, name: string) => `${status}\u0000${name}`;

/**
 * Tasks per status and name, kept in memory so that /metrics and /stats never count a long
 * history. Counted from the store once, on the first read, then moved along by every
 * transition the manager announces (announced only once committed) and every delete. A
 * trigger-maintained table would have cost one more page in every commit of the hot path.
 */
export class TaskCounts {
  #counts: Map<string, StatusNameCount> | undefined;

  constructor(private readonly countFromStore: () => StatusNameCount[]) {}

  /** Pairs with at least one task. */
  byStatusAndName(): StatusNameCount[] {
    return [...this.#loaded().values()].filter((row) => row.count > 0).map((row) => ({ ...row }));
  }

  byStatus(): Record<TaskStatus, number> {
    const totals = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<
      TaskStatus,
      number
    >;
    for (const row of this.#loaded().values()) totals[row.status] += row.count;
    return totals;
  }

  /** A listener for the manager's events. */
  readonly observe = (event: ManagerEvent): void => {
    if (event.type !== "transition" || this.#counts === undefined || event.from === event.to) return;
    if (event.from !== null) this.#add(event.from, event.task.taskName, -1);
    this.#add(event.to, event.task.taskName, 1);
  };

  deleted(tasks: readonly DeletedTask[]): void {
    if (this.#counts === undefined) return;
    for (const task of tasks) this.#add(task.status, task.name, -1);
  }

  #loaded(): Map<string, StatusNameCount> {
    if (this.#counts === undefined) {
      this.#counts = new Map();
      for (const row of this.countFromStore()) this.#counts.set(key(row.status, row.name), { ...row });
    }
    return this.#counts;
  }

  #add(status: TaskStatus, name: string, delta: number): void {
    const counts = this.#loaded();
    const row = counts.get(key(status, name));
    if (row) row.count += delta;
    else counts.set(key(status, name), { status, name, count: delta });
  }
}
