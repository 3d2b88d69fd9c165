import type { NodeIdentity } from "../cluster/node-identity.ts";
import { loneNode, selfFirst } from "../cluster/node-list.ts";
import type { NodeRecord } from "../cluster/node-record.ts";
import {
  type DurabilitySettings,
  type HistoryQuery,
  type ListTasksQuery,
  type Page,
  ParamFiltersUnavailableError,
  SqliteTaskStore,
  type TaskEventRecord,
  type TaskLogRecord,
  type TaskRecord,
} from "../store/index.ts";
import { ParamFiltersUnavailable, TaskNotFoundError } from "./errors.ts";
import { findByIdOrPrefix, findByPrefix } from "./id-prefix.ts";
import type { ManagerStats, TaskTree } from "./manager-options.ts";
import type { EngineParts } from "./manager-parts.ts";
import { countEnded, type EndedCounts } from "./upkeep/ended-counts.ts";

/** Children a task's page lists by id (all of them are counted). */
const CHILDREN_SHOWN = 100;

/**
 * What the manager answers without changing any task: a task by id or prefix (with what it waits
 * for and the tasks it spawned), pages of tasks, of a task's history and of its logs, the tasks
 * ended lately; this node's runs, queue and workers, the nodes serving the database, and the
 * SQLite file's durability settings. A PENDING task shows the wait this node's dispatcher holds it in.
 */
export class ManagerQueries {
  constructor(
    private readonly parts: Pick<
      EngineParts,
      "guard" | "dispatcher" | "telemetry" | "executor" | "pool" | "runtime" | "ended" | "counts"
    >,
    private readonly node: NodeIdentity,
    private readonly concurrency: number,
    /** Not yet stopping: how this node reports itself when it is alone on its database. */
    private readonly alive: () => boolean,
  ) {}

  private get store(): EngineParts["guard"] {
    return this.parts.guard;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const task = await this.store.getTask(id);
    return task && this.#withWaitReason(task);
  }

  async require(id: string): Promise<TaskRecord> {
    const task = await this.store.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    return this.#withWaitReason(task);
  }

  /**
   * A PENDING task held back by its rate limit or its key's concurrency shows why as its status
   * reason and, held by its rate limit, when it may start as its `runAt`: both live in this
   * node's dispatcher, not in the row, as they change at every deferral (see WaitOverlay).
   */
  #withWaitReason(task: TaskRecord): TaskRecord {
    if (task.status !== "PENDING") return task;
    const overlay = this.parts.dispatcher.waitOverlay(task);
    if (overlay === undefined) return task;
    const shown = { ...task, statusReason: overlay.reason };
    if (overlay.runAt !== undefined) shown.runAt = overlay.runAt;
    return shown;
  }

  async find(idOrPrefix: string): Promise<TaskRecord> {
    return this.#withWaitReason(await findByIdOrPrefix(this.store, idOrPrefix));
  }

  async findWithTree(idOrPrefix: string): Promise<TaskTree> {
    // An exact id, as most lookups are: the row and its tree in one read.
    const exact = await this.store.taskWithTree(idOrPrefix, CHILDREN_SHOWN);
    if (exact) return { ...exact, task: this.#withWaitReason(exact.task) };
    const task = this.#withWaitReason(await findByPrefix(this.store, idOrPrefix));
    return { task, ...(await this.store.taskTree(task.id, CHILDREN_SHOWN)) };
  }

  async list(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    if (this.#noneOfStatusAndName(query)) return { items: [], nextCursor: null };
    const page = await this.store.listTasks(query).catch((error: unknown) => {
      throw error instanceof ParamFiltersUnavailableError
        ? new ParamFiltersUnavailable(error.message)
        : error;
    });
    return { ...page, items: page.items.map((task) => this.#withWaitReason(task)) };
  }

  /**
   * A status and a name that no task has together, as the counts kept in memory tell it: the
   * page is empty without a read. The database has no index on both, so it would walk every task
   * of one of them (100 ms for a name of 100,000 tasks). Only on a store this engine has to
   * itself, where the counts move with every commit before its request is answered.
   */
  #noneOfStatusAndName(query: ListTasksQuery): boolean {
    if (this.parts.runtime || !query.status || !query.name || (query.params?.length ?? 0) > 0) return false;
    return this.parts.counts.countNow(query.status, query.name) === 0;
  }

  async events(id: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    await this.require(id);
    return this.store.listEvents(id, query);
  }

  async logs(id: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    await this.require(id);
    // Lines still buffered for the next tick are written first, so the page has them.
    await this.parts.telemetry.flush();
    return this.store.listLogs(id, query);
  }

  endedCounts(minutes: number, now: number): Promise<EndedCounts> {
    const counted = this.parts.ended?.counts(minutes, now);
    return counted ? Promise.resolve(counted) : countEnded(this.store, now, minutes);
  }

  stats(): ManagerStats {
    return {
      running: this.parts.executor.running,
      parked: this.parts.executor.parked,
      queued: this.parts.dispatcher.size,
      workers: this.parts.pool.size,
      idleWorkers: this.parts.pool.idleCount,
      concurrency: this.concurrency,
    };
  }

  async nodes(): Promise<NodeRecord[]> {
    const runtime = this.parts.runtime;
    if (runtime) return selfFirst(await runtime.nodes(), this.node);
    const status = this.alive() ? "alive" : "stopping";
    return [loneNode(this.node, status, this.concurrency, this.parts.executor.running)];
  }

  durabilitySettings(): DurabilitySettings | undefined {
    const inner = this.parts.guard.inner;
    return inner instanceof SqliteTaskStore ? inner.file.durabilitySettings() : undefined;
  }
}
