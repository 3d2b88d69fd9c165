import type { DeletedTask, TaskStore } from "../../store/index.ts";
import { TASK_STATUSES, type TaskStatus } from "../../task/index.ts";
import type { ManagerEvent } from "../events.ts";

export interface StatusNameCount {
  status: TaskStatus;
  name: string;
  count: number;
}

/** Rows read per step of the first count: a few milliseconds of the main thread each. */
const SCAN_STEP = 5_000;

const key = (status: TaskStatus, name: string) => `${status}\u0000${name}`;

/** A change to a task: `from` null for its creation, `to` null for its deletion. */
interface Change {
  from: TaskStatus | null;
  to: TaskStatus | null;
  name: string;
}

type ScannedRow = { id: string; status: TaskStatus; name: string };

/**
 * Tasks per status and name, kept in memory so that /metrics and /stats never count a long
 * history. The first count walks the tasks table in id order, a few thousand rows per turn of
 * the event loop, so a history of millions never stalls the API; meanwhile a change to a task
 * the walk has passed is applied at once, and one it has not reached is left for the walk to
 * see. A change announced while a step's read is under way, to a task that step may cover, is
 * kept and applied to what the read returns when it was made after the read (the row still holds
 * the status the change started from). After that, every committed transition and every delete
 * moves the counts. (A
 * trigger-maintained table would have cost one more page in every commit of the hot path.)
 */
export class TaskCounts {
  readonly #counts = new Map<string, StatusNameCount>();
  /** The highest id the first count has read; undefined once it is complete. */
  #scannedTo: string | null | undefined = null;
  #ready: Promise<void> | undefined;
  #stopped = false;
  /** Changes to tasks not counted yet, announced while a step's read is under way, per task. */
  #meanwhile: Map<string, Change[]> | undefined;

  constructor(private readonly store: Pick<TaskStore, "scanStatusAndName">) {}

  /** Starts the first count, once; resolves when it is complete. */
  ready(): Promise<void> {
    this.#ready ??= this.#scan().catch((error: unknown) => {
      // Start over on the next read rather than keep a partial count.
      this.#counts.clear();
      this.#scannedTo = null;
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Pairs with at least one task. */
  async byStatusAndName(): Promise<StatusNameCount[]> {
    await this.ready();
    return [...this.#counts.values()].filter((row) => row.count > 0).map((row) => ({ ...row }));
  }

  async byStatus(): Promise<Record<TaskStatus, number>> {
    await this.ready();
    const totals = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<
      TaskStatus,
      number
    >;
    for (const row of this.#counts.values()) totals[row.status] += row.count;
    return totals;
  }

  /** Tasks of this status and name, once the first count is complete; undefined before. */
  countNow(status: TaskStatus, name: string): number | undefined {
    if (this.#scannedTo !== undefined) return undefined;
    return this.#counts.get(key(status, name))?.count ?? 0;
  }

  /** PENDING tasks as counted so far (0 before the first count is done): for stats, without waiting. */
  pendingNow(): number {
    let pending = 0;
    for (const row of this.#counts.values()) if (row.status === "PENDING") pending += row.count;
    return pending;
  }

  /** A listener for the manager's events, which it hears only once they are committed. */
  readonly observe = (event: ManagerEvent): void => {
    if (event.type !== "transition" || event.from === event.to) return;
    const { id, taskName } = event.task;
    if (!this.#counted(id)) {
      this.#keep(id, { from: event.from, to: event.to, name: taskName });
      return;
    }
    if (event.from !== null) this.#add(event.from, taskName, -1);
    this.#add(event.to, taskName, 1);
  };

  deleted(tasks: readonly DeletedTask[]): void {
    for (const task of tasks) {
      if (this.#counted(task.id)) this.#add(task.status, task.name, -1);
      else this.#keep(task.id, { from: task.status, to: null, name: task.name });
    }
  }

  #keep(id: string, change: Change): void {
    if (!this.#meanwhile) return;
    const changes = this.#meanwhile.get(id);
    if (changes) changes.push(change);
    else this.#meanwhile.set(id, [change]);
  }

  /**
   * Counts a step's rows, and the changes made to them (or to tasks created) while it was read:
   * a change whose `from` is what the row holds came after the read. Tasks past the step's last
   * id are left to the next step, unless this was the last.
   */
  #countStep(rows: readonly ScannedRow[], last: boolean): void {
    const meanwhile = this.#meanwhile ?? new Map<string, Change[]>();
    this.#meanwhile = undefined;
    const end = rows.at(-1)?.id;
    const follow = (status: TaskStatus | null, changes: readonly Change[] | undefined) => {
      let now = status;
      for (const change of changes ?? []) if (change.from === now) now = change.to;
      return now;
    };
    for (const row of rows) {
      const status = follow(row.status, meanwhile.get(row.id));
      meanwhile.delete(row.id);
      if (status !== null) this.#add(status, row.name, 1);
    }
    for (const [id, changes] of meanwhile) {
      if (!last && (end === undefined || id > end)) continue;
      const status = follow(null, changes);
      const name = changes[0]?.name;
      if (status !== null && name !== undefined) this.#add(status, name, 1);
    }
  }

  /** Whether the counts hold this task already (the walk has passed it, or is over). */
  #counted(id: string): boolean {
    return this.#scannedTo === undefined || (this.#scannedTo !== null && id <= this.#scannedTo);
  }

  async #scan(): Promise<void> {
    while (!this.#stopped) {
      this.#meanwhile = new Map();
      const rows = await this.store.scanStatusAndName(this.#scannedTo ?? null, SCAN_STEP);
      const done = rows.length < SCAN_STEP;
      this.#countStep(rows, done);
      const last = rows.at(-1);
      if (last) this.#scannedTo = last.id;
      if (done) {
        this.#scannedTo = undefined;
        return;
      }
      // Let requests and worker messages in between two steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #add(status: TaskStatus, name: string, delta: number): void {
    const row = this.#counts.get(key(status, name));
    if (row) row.count += delta;
    else this.#counts.set(key(status, name), { status, name, count: delta });
  }
}
