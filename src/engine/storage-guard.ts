import {
  type DeletedTask,
  type HistoryQuery,
  type ListTasksQuery,
  type NewTask,
  type NewTaskEvent,
  type Page,
  type StorageFault,
  type SyncTaskStore,
  storageFaultOf,
  type TaskEventRecord,
  type TaskLogRecord,
  type TaskPatch,
  type TaskRecord,
  type TelemetryBatch,
} from "../store/index.ts";
import type { TaskStatus } from "../task/index.ts";
import { StorageUnavailableError } from "./errors.ts";
import type { Logger } from "./logger.ts";

/**
 * Wraps the store the engine writes through. A storage fault (disk full, read-only file, I/O
 * error, lock timeout) comes out as `StorageUnavailableError`, which the API answers with 503;
 * the first one of an outage is logged as one line, and the first write that succeeds after it
 * logs that writes work again. Other errors pass through untouched.
 */
export class GuardedStore implements SyncTaskStore {
  #fault: StorageFault | undefined;
  /**
   * A fault that waiting does not clear: the file is damaged, deleted or replaced. From then on
   * every write is refused without being tried, until kiln is restarted; reads go on.
   */
  #lasting: StorageFault | undefined;
  /** The writes made so far inside the open batch. */
  #journal: (() => void)[] | undefined;

  constructor(
    readonly inner: SyncTaskStore,
    private readonly logger: Logger,
    private readonly path?: string,
  ) {}

  /** The fault of the current outage, or undefined while writes work. */
  get fault(): StorageFault | undefined {
    return this.#lasting ?? this.#fault;
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
      db: this.path,
      effect: "requests that write get 503 and /ready answers 503 until kiln is restarted; reads go on",
      remedy: fault.remedy,
    });
  }

  #refuseIfLasting(): void {
    if (this.#lasting) throw new StorageUnavailableError(this.#lasting, undefined);
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

  #read<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /** Writes made so far in the open batch (0 outside one). */
  get journalLength(): number {
    return this.#journal?.length ?? 0;
  }

  #write<T>(write: () => T): T {
    this.#refuseIfLasting();
    let result: T;
    try {
      result = write();
    } catch (error) {
      throw this.#translate(error);
    }
    if (this.#journal) {
      // Replayed through the guard, so that a replay failing again is kept again. Inside a
      // batch nothing reached the disk yet: only its commit tells whether writes work again.
      this.#journal.push(() => void this.#write(write));
      return result;
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
    const fault = storageFaultOf(error, this.path);
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

  /**
   * With WAL, SQLite writes pages at commit, so a full disk fails a batch's COMMIT after every
   * write inside it has returned. The error then carries those writes (`unwritten`), in order,
   * for the engine to keep and retry like any write it could not make.
   */
  batch<T>(fn: () => T): T {
    if (this.#journal) return fn();
    const journal: (() => void)[] = [];
    let result: T;
    try {
      this.#refuseIfLasting();
      this.#journal = journal;
      result = this.inner.batch(() => {
        try {
          return fn();
        } finally {
          // The COMMIT follows; it is judged like a write outside any batch.
          this.#journal = undefined;
        }
      });
      this.#checkFile();
    } catch (error) {
      this.#journal = undefined;
      const translated = this.#translate(error);
      if (translated instanceof StorageUnavailableError) translated.unwritten = journal;
      throw translated;
    }
    this.#recovered();
    return result;
  }
  deleteEndedBefore(before: number, limit: number): DeletedTask[] {
    return this.#write(() => this.inner.deleteEndedBefore(before, limit));
  }
  probeIntegrity(): void {
    this.#read(() => this.inner.probeIntegrity?.());
  }
  verifyReadable(): void {
    this.#read(() => this.inner.verifyReadable());
  }
  migrate(): void {
    this.#write(() => this.inner.migrate());
  }
  createTask(task: NewTask, event: NewTaskEvent): TaskRecord {
    return this.#write(() => this.inner.createTask(task, event));
  }
  getTask(id: string): TaskRecord | undefined {
    return this.#read(() => this.inner.getTask(id));
  }
  findByIdempotencyKey(key: string): TaskRecord | undefined {
    return this.#read(() => this.inner.findByIdempotencyKey(key));
  }
  idsWithPrefix(prefix: string, limit: number): string[] {
    return this.#read(() => this.inner.idsWithPrefix(prefix, limit));
  }
  listTasks(query: ListTasksQuery): Page<TaskRecord, string> {
    return this.#read(() => this.inner.listTasks(query));
  }
  listActive(): TaskRecord[] {
    return this.#read(() => this.inner.listActive());
  }
  transition(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: NewTaskEvent,
  ): TaskRecord | undefined {
    return this.#write(() => this.inner.transition(id, from, patch, event));
  }
  updateTask(id: string, patch: TaskPatch, event?: NewTaskEvent): TaskRecord | undefined {
    return this.#write(() => this.inner.updateTask(id, patch, event));
  }
  listEvents(taskId: string, query: HistoryQuery): Page<TaskEventRecord, number> {
    return this.#read(() => this.inner.listEvents(taskId, query));
  }
  listLogs(taskId: string, query: HistoryQuery): Page<TaskLogRecord, number> {
    return this.#read(() => this.inner.listLogs(taskId, query));
  }
  writeTelemetry(batch: TelemetryBatch): void {
    this.#write(() => this.inner.writeTelemetry(batch));
  }
  deleteTask(id: string): boolean {
    return this.#write(() => this.inner.deleteTask(id));
  }
  countByStatus(): Record<TaskStatus, number> {
    return this.#read(() => this.inner.countByStatus());
  }
  scanStatusAndName(afterId: string | null, limit: number) {
    return this.#read(() => this.inner.scanStatusAndName(afterId, limit));
  }
  countEndedSince(since: number, bucketMs: number) {
    return this.#read(() => this.inner.countEndedSince(since, bucketMs));
  }
  /** Closes the store; a storage fault while checkpointing the WAL is logged, not thrown. */
  close(): void {
    try {
      this.inner.close();
    } catch (error) {
      const fault = storageFaultOf(error, this.path);
      if (!fault) throw error;
      this.logger.error(`closing the database failed: ${fault.description}`, { code: fault.code });
    }
  }
}
