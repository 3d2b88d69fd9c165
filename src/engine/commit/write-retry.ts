import { StorageUnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Unit } from "./unit.ts";

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

/** A write the engine makes on its own; it reads what it needs, so it can be made again. */
export type EngineWrite = (unit: Unit) => Promise<void>;

interface PendingWrite {
  label: string;
  write: EngineWrite;
}

/**
 * Writes the engine must make although no caller waits for them: a run's end (FINISHED,
 * FAILED, a retry…), a pause acknowledged at a checkpoint. When the database cannot be written
 * the write is kept in memory, in order, and tried again with a growing delay until it
 * succeeds; the task's row stays as it was (RUNNING), so if kiln stops before the write
 * lands, start-up recovery treats the task as interrupted. Each write re-reads what it needs,
 * so running it again after a failure is safe: a failed transaction changed nothing.
 */
export class WriteRetry {
  #pending: PendingWrite[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = FIRST_DELAY_MS;
  #retrying: Promise<boolean> | undefined;
  #closed = false;

  constructor(
    private readonly logger: Logger,
    /** Makes one write in a transaction of its own. */
    private readonly commit: (write: EngineWrite) => Promise<void>,
    /** Called after kept writes succeed, so their effects (queued tasks) get dispatched. */
    private readonly onWritten: () => void,
  ) {}

  /** Writes kept for a retry. */
  get size(): number {
    return this.#pending.length;
  }

  /** Keeps writes that failed on a storage fault, in order, behind those kept already. */
  keep(label: string, writes: readonly EngineWrite[]): void {
    if (writes.length === 0 || this.#closed) return;
    for (const write of writes) this.#pending.push({ label, write });
    this.#arm();
  }

  /** Tries every kept write once, in order; stops at the first that still fails. True when none is left. */
  retryNow(): Promise<boolean> {
    this.#retrying ??= this.#retry().finally(() => {
      this.#retrying = undefined;
    });
    return this.#retrying;
  }

  async #retry(): Promise<boolean> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let written = 0;
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as PendingWrite;
      try {
        await this.commit(next.write);
      } catch (error) {
        if (!(error instanceof StorageUnavailableError)) {
          this.logger.error("a kept write failed for good", { write: next.label, error: String(error) });
        } else {
          break;
        }
      }
      this.#pending.shift();
      written += 1;
    }
    if (written > 0) this.onWritten();
    if (this.#pending.length === 0) {
      this.#delay = FIRST_DELAY_MS;
      return true;
    }
    this.#arm();
    return false;
  }

  /** Stops retrying; what is still kept is reported, and recovery handles it on the next start. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    this.logger.error("kiln stops with writes it could not make; the next start recovers those tasks", {
      writes: this.#pending.map((pending) => pending.label),
    });
    this.#pending = [];
  }

  #arm(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
      void this.retryNow();
    }, this.#delay);
  }
}
