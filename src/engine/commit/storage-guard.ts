import type { ClusterStore } from "../../store/cluster-store.ts";
import type {
  DeletedTask,
  EndedCount,
  HistoryQuery,
  ListTasksQuery,
  NewTask,
  NewTaskEvent,
  Page,
  RateStart,
  StorageFault,
  TaskEventRecord,
  TaskLogRecord,
  TaskPatch,
  TaskRecord,
  TaskStore,
  TaskWrites,
  TelemetryBatch,
} from "../../store/index.ts";
import type { RunFence } from "../../store/task-store.ts";
import type { TaskStatus } from "../../task/index.ts";
import { StorageUnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/**
 * Wraps the store the engine writes through. A storage fault (as the store's `faultOf` reads its
 * driver's error: disk full, read-only file, I/O error, a lost connection) comes out as
 * `StorageUnavailableError`, which the API answers with 503; the first one of an outage is logged
 * as one line, and the first write that succeeds after it logs that writes work again. Other
 * errors pass through untouched. Inside a `transaction()` the calls are the store's own: the
 * transaction's outcome as a whole is judged, once it is committed or has failed.
 */
export class GuardedStore implements TaskStore {
  #fault: StorageFault | undefined;
  /**
   * A fault that waiting does not clear: the file is damaged, deleted or replaced. From then on
   * every write is refused without being tried, until kiln is restarted; reads go on.
   */
  #lasting: StorageFault | undefined;

  constructor(
    readonly inner: TaskStore,
    private readonly logger: Logger,
  ) {}

  get dialect() {
    return this.inner.dialect;
  }

  get location(): string {
    return this.inner.location;
  }

  get pipelines(): boolean {
    return this.inner.pipelines === true;
  }

  /** The cluster protocol's statements, on a store nodes share; they do not go through the guard. */
  get cluster(): ClusterStore | undefined {
    return this.inner.cluster;
  }

  /** The fault of the current outage, or undefined while writes work. */
  get fault(): StorageFault | undefined {
    return this.#lasting ?? this.#fault;
  }

  /** Whether `error` is a storage fault, translated or not: what a caller must pass on. */
  isFault(error: unknown): boolean {
    return error instanceof StorageUnavailableError || this.inner.faultOf(error) !== undefined;
  }

  faultOf(error: unknown): StorageFault | undefined {
    return error instanceof StorageUnavailableError ? error.fault : this.inner.faultOf(error);
  }

  /**
   * The fault that stops all writes for good (a damaged, deleted or replaced file), or
   * undefined. `thorough` looks the file's path up now.
   */
  lastingFault(thorough = false): StorageFault | undefined {
    if (this.#lasting) return this.#lasting;
    const problem = this.inner.fileProblem?.(thorough);
    if (problem) this.#keepLasting(problem);
    return this.#lasting;
  }

  fileProblem(thorough = false): StorageFault | undefined {
    return this.lastingFault(thorough);
  }

  #keepLasting(fault: StorageFault): void {
    if (this.#lasting) return;
    this.#lasting = fault;
    this.logger.error(`the database cannot be used: ${fault.description}`, {
      cause: fault.cause,
      ...(fault.code ? { code: fault.code } : {}),
      db: this.inner.location,
      effect: "requests that write get 503 and /ready answers 503 until kiln is restarted; reads go on",
      remedy: fault.remedy,
    });
  }

  /**
   * After a commit: the write is in the file at the database's path, or it is refused. SQLite
   * writes on into a file that was deleted or replaced, and all of that would be lost.
   */
  #checkFile(): void {
    const problem = this.inner.fileProblem?.();
    if (!problem) return;
    this.#keepLasting(problem);
    throw new StorageUnavailableError(problem, undefined);
  }

  async #read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  async #write<T>(write: () => Promise<T>): Promise<T> {
    if (this.#lasting) throw new StorageUnavailableError(this.#lasting, undefined);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      throw this.#translate(error);
    }
    this.#checkFile();
    this.#recovered();
    return result;
  }

  #recovered(): void {
    if (!this.#fault) return;
    this.logger.info("the database is writable again", { after: this.#fault.cause });
    this.#fault = undefined;
  }

  #translate(error: unknown): unknown {
    if (error instanceof StorageUnavailableError) return error;
    const fault = this.inner.faultOf(error);
    if (!fault) return error;
    if (fault.remedy) {
      this.#keepLasting(fault);
      return new StorageUnavailableError(fault, error);
    }
    if (this.#fault?.cause !== fault.cause) {
      this.logger.error(`the database cannot be written: ${fault.description}`, {
        cause: fault.cause,
        code: fault.code,
        error: error instanceof Error ? error.message : String(error),
        effect: "requests that write get 503; reads go on; kiln retries its own writes",
      });
    }
    this.#fault = fault;
    return new StorageUnavailableError(fault, error);
  }

  /** One transaction; a storage fault anywhere in it (its COMMIT included) rejects it as a whole. */
  transaction<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.#write(() => this.inner.transaction(fn));
  }
  attempt<T>(fn: (tx: TaskWrites) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }
  deleteEndedBefore(before: number, limit: number): Promise<DeletedTask[]> {
    return this.#write(() => this.inner.deleteEndedBefore(before, limit));
  }
  async probeIntegrity(): Promise<void> {
    await this.#read(async () => this.inner.probeIntegrity?.());
  }
  verifyReadable(): Promise<void> {
    return this.#read(() => this.inner.verifyReadable());
  }
  migrate(): Promise<void> {
    return this.#write(() => this.inner.migrate());
  }
  createTask(task: NewTask, event: NewTaskEvent): Promise<TaskRecord> {
    return this.#write(() => this.inner.createTask(task, event));
  }
  getTask(id: string): Promise<TaskRecord | undefined> {
    return this.#read(() => this.inner.getTask(id));
  }
  findByIdempotencyKey(key: string): Promise<TaskRecord | undefined> {
    return this.#read(() => this.inner.findByIdempotencyKey(key));
  }
  idsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return this.#read(() => this.inner.idsWithPrefix(prefix, limit));
  }
  listTasks(query: ListTasksQuery): Promise<Page<TaskRecord, string>> {
    return this.#read(() => this.inner.listTasks(query));
  }
  listActive(): Promise<TaskRecord[]> {
    return this.#read(() => this.inner.listActive());
  }
  recentRateStarts(name: string, since: number, perKey: number): Promise<RateStart[]> {
    const inner = this.inner;
    if (!inner.recentRateStarts) return Promise.resolve([]);
    return this.#read(() => inner.recentRateStarts?.(name, since, perKey) ?? Promise.resolve([]));
  }
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
    fence?: RunFence,
  ): Promise<TaskRecord | undefined> {
    return this.#write(() => this.inner.transition(id, from, patch, event, fence));
  }
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): Promise<TaskRecord | undefined> {
    return this.#write(() => this.inner.updateTask(id, patch, event));
  }
  listEvents(taskId: string, query: HistoryQuery): Promise<Page<TaskEventRecord, number>> {
    return this.#read(() => this.inner.listEvents(taskId, query));
  }
  listLogs(taskId: string, query: HistoryQuery): Promise<Page<TaskLogRecord, number>> {
    return this.#read(() => this.inner.listLogs(taskId, query));
  }
  writeTelemetry(batch: TelemetryBatch): Promise<void> {
    return this.#write(() => this.inner.writeTelemetry(batch));
  }
  deleteTask(id: string): Promise<boolean> {
    return this.#write(() => this.inner.deleteTask(id));
  }
  createSchedule: TaskStore["createSchedule"] = (schedule) =>
    this.#write(() => this.inner.createSchedule(schedule));
  updateSchedule: TaskStore["updateSchedule"] = (id, patch) =>
    this.#write(() => this.inner.updateSchedule(id, patch));
  deleteSchedule: TaskStore["deleteSchedule"] = (id) => this.#write(() => this.inner.deleteSchedule(id));
  getSchedule: TaskStore["getSchedule"] = (id) => this.#read(() => this.inner.getSchedule(id));
  recordScheduleFire: TaskStore["recordScheduleFire"] = (fire) =>
    this.#write(() => this.inner.recordScheduleFire(fire));
  listSchedules: TaskStore["listSchedules"] = () => this.#read(() => this.inner.listSchedules());
  pauseTaskType: TaskStore["pauseTaskType"] = (pause) => this.#write(() => this.inner.pauseTaskType(pause));
  resumeTaskType: TaskStore["resumeTaskType"] = (name) => this.#write(() => this.inner.resumeTaskType(name));
  listTaskTypePauses: TaskStore["listTaskTypePauses"] = () =>
    this.#read(() => this.inner.listTaskTypePauses());
  listScheduleFires: TaskStore["listScheduleFires"] = (scheduleId, limit) =>
    this.#read(() => this.inner.listScheduleFires(scheduleId, limit));
  listQueuedFires: TaskStore["listQueuedFires"] = () => this.#read(() => this.inner.listQueuedFires());
  addAwaited: TaskStore["addAwaited"] = (taskId, kind, ids) =>
    this.#write(() => this.inner.addAwaited(taskId, kind, ids));
  awaitedStates: TaskStore["awaitedStates"] = (taskId, kind) =>
    this.#read(() => this.inner.awaitedStates(taskId, kind));
  awaitingOn: TaskStore["awaitingOn"] = (ids) => this.#read(() => this.inner.awaitingOn(ids));
  existingIds: TaskStore["existingIds"] = (ids) => this.#read(() => this.inner.existingIds(ids));
  hasAwaiting: TaskStore["hasAwaiting"] = () => this.#read(() => this.inner.hasAwaiting());
  awaitingToExamine: TaskStore["awaitingToExamine"] = (limit) =>
    this.#read(() => this.inner.awaitingToExamine(limit));
  awaitedIds: TaskStore["awaitedIds"] = (taskId, kind) =>
    this.#read(() => this.inner.awaitedIds(taskId, kind));
  childrenOf: TaskStore["childrenOf"] = (parentId, limit) =>
    this.#read(() => this.inner.childrenOf(parentId, limit));
  taskTree: TaskStore["taskTree"] = (taskId, childLimit) =>
    this.#read(() => this.inner.taskTree(taskId, childLimit));
  taskWithTree: TaskStore["taskWithTree"] = (taskId, childLimit) =>
    this.#read(() => this.inner.taskWithTree(taskId, childLimit));
  countByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#read(() => this.inner.countByStatus());
  }
  scanStatusAndName(afterId: string | null, limit: number) {
    return this.#read(() => this.inner.scanStatusAndName(afterId, limit));
  }
  countEndedSince(since: number, bucketMs: number): Promise<EndedCount[]> {
    return this.#read(() => this.inner.countEndedSince(since, bucketMs));
  }
  /** Closes the store; a storage fault while closing (a WAL checkpoint) is logged, not thrown. */
  async close(): Promise<void> {
    try {
      await this.inner.close();
    } catch (error) {
      const fault = this.inner.faultOf(error);
      if (!fault) throw error;
      this.logger.error(`closing the database failed: ${fault.description}`, { code: fault.code });
    }
  }
}
