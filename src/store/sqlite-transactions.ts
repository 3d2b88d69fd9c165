import type { Database, Statement } from "bun:sqlite";
import { SqliteEventBuffer } from "./sqlite-event-buffer.ts";

/** What `SqliteSyncStore.transactionControl` may do to a transaction opened by hand. */
export type TransactionCommand = "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollback-to";

/**
 * How the SQLite store's writes are made whole: bun:sqlite's transaction (for `batch` and the
 * writes made outside any other), the transaction a caller opens and ends by hand, and the
 * writes that join it.
 */
export class SqliteTransactions {
  readonly #sqlite: Database;
  /**
   * Runs `fn` in a transaction (a savepoint when one is open). Made once: bun:sqlite's
   * `transaction()` builds a new wrapper on each call, which showed in profiles of every write.
   */
  readonly run: <T>(fn: () => T) => T;
  /**
   * True while a transaction opened by hand (`control("begin")`) is open: a write's statements
   * then join it without a savepoint of their own (two statements each, per write, on the
   * hottest path). A statement that fails undoes only itself, so a write whose first statement
   * fails has written nothing; one that fails after its first statement leaves the transaction
   * `#spoiled` instead, and it can then only be rolled back (or the savepoint around the write
   * rolled back to).
   */
  #byHand = false;
  /**
   * Set by a write, inside `atomic`, between its first statement and its end: a throw then leaves
   * half of it written.
   */
  halfway = false;
  /** The error of a write that failed half-way in the transaction opened by hand, if one did. */
  #spoiled: { error: unknown } | undefined;
  /** `#spoiled` as each savepoint open inside that transaction found it, innermost last. */
  readonly #spoiledAtSavepoint: ({ error: unknown } | undefined)[] = [];

  /** True while the read transaction of `beginReadSnapshot` is open. */
  #readSnapshot = false;

  /** The history rows of the transaction opened by hand, written as it commits. */
  readonly events: SqliteEventBuffer;
  /** For `read`: prepared once, as `exec` parses its text on every call. */
  readonly #begin: Statement;
  readonly #commit: Statement;

  constructor(
    sqlite: Database,
    /** Called whenever writes may have been undone (a rollback, a failed commit). */
    private readonly undone: () => void = () => {},
  ) {
    this.#sqlite = sqlite;
    this.events = new SqliteEventBuffer(sqlite);
    this.#begin = sqlite.prepare("BEGIN");
    this.#commit = sqlite.prepare("COMMIT");
    const inTransaction = sqlite.transaction((fn: () => unknown) => fn());
    this.run = <T>(fn: () => T): T => {
      this.endReadSnapshot();
      try {
        return inTransaction(fn) as T;
      } catch (error) {
        this.undone();
        throw error;
      }
    };
  }

  /**
   * Opens, ends or marks a transaction by hand, for a caller that awaits between its writes
   * (the asynchronous port). The writes inside join it as they are (see `#byHand`); a COMMIT of
   * a transaction a write left half-done throws that write's error instead.
   */
  control(command: TransactionCommand, name: string): void {
    switch (command) {
      case "begin":
        this.endReadSnapshot();
        this.events.drop();
        this.#sqlite.exec("BEGIN");
        this.#byHand = true;
        this.#spoiled = undefined;
        this.#spoiledAtSavepoint.length = 0;
        return;
      case "commit":
        // Half a write must not be committed: the caller rolls back on this throw.
        if (this.#spoiled) throw this.#spoiled.error;
        try {
          this.events.flush();
          this.#sqlite.exec("COMMIT");
        } catch (error) {
          // SQLite may have rolled the transaction back itself (a full disk, an I/O error).
          this.undone();
          throw error;
        }
        this.#byHand = false;
        return;
      case "rollback":
        this.#byHand = false;
        this.#spoiled = undefined;
        this.#spoiledAtSavepoint.length = 0;
        this.events.drop();
        this.undone();
        this.#sqlite.exec("ROLLBACK");
        return;
      case "savepoint":
        // What came before the savepoint is written, so a ROLLBACK TO drops only what follows.
        this.events.flush();
        this.#sqlite.exec(`SAVEPOINT ${name}`);
        this.#spoiledAtSavepoint.push(this.#spoiled);
        return;
      case "release":
        // A part's history is written inside its savepoint: a failure there fails the part alone.
        this.events.flush();
        this.#sqlite.exec(`RELEASE ${name}`);
        this.#spoiledAtSavepoint.pop();
        return;
      case "rollback-to":
        this.events.drop();
        this.undone();
        this.#sqlite.exec(`ROLLBACK TO ${name}`);
        // What was written since the savepoint is undone, half a write included.
        this.#spoiled = this.#spoiledAtSavepoint.at(-1);
        return;
    }
  }

  /**
   * Runs a write's statements as one: in the transaction opened by hand without a savepoint of
   * their own (see `#byHand`), else in a transaction of their own (a savepoint inside `batch`).
   * The write sets `halfway` once its first statement has written.
   */
  /** True while history rows wait for the commit of the transaction opened by hand. */
  get buffersEvents(): boolean {
    return this.#byHand && this.#sqlite.inTransaction;
  }

  /**
   * Runs reads in one read transaction, or in the transaction already open. Each statement run
   * outside a transaction opens one of its own, and in WAL mode that takes and drops a lock on the
   * shared-memory index (two `fcntl` calls): about 6 µs of a PK lookup's 8 on a small VM, where
   * the same lookup inside a transaction takes 2. Only reads: nothing written here would be
   * committed before the COMMIT below, which ends the transaction whatever `fn` did.
   */
  read<T>(fn: () => T): T {
    if (this.#sqlite.inTransaction) return fn();
    this.#begin.run();
    try {
      return fn();
    } finally {
      try {
        this.#commit.run();
      } catch (error) {
        // Never left open: the writes that come next would join it and wait for its end.
        if (this.#sqlite.inTransaction) this.#sqlite.exec("ROLLBACK");
        // biome-ignore lint/correctness/noUnsafeFinally: the failed COMMIT is the error to report.
        throw error;
      }
    }
  }

  /**
   * Opens a read transaction that the reads made until `endReadSnapshot` share (see `read` for
   * what one costs). Only for reads: a write through `run` or `control("begin")` ends it first,
   * and a statement written past those (the async port's calls) must end it before it runs, or
   * its write would wait uncommitted for the snapshot's end. True when one is open after the call.
   */
  beginReadSnapshot(): boolean {
    if (this.#readSnapshot) return true;
    if (this.#sqlite.inTransaction) return false;
    this.#begin.run();
    this.#readSnapshot = true;
    return true;
  }

  /** Ends the read transaction of `beginReadSnapshot`, if one is open. */
  endReadSnapshot(): void {
    if (!this.#readSnapshot) return;
    this.#readSnapshot = false;
    try {
      this.#commit.run();
    } catch {
      // A read transaction has nothing to lose; what matters is that it is not left open.
      if (this.#sqlite.inTransaction) this.#sqlite.exec("ROLLBACK");
    }
  }

  atomic<T>(fn: () => T): T {
    if (!this.#byHand || !this.#sqlite.inTransaction) return this.run(fn);
    this.halfway = false;
    try {
      return fn();
    } catch (error) {
      if (this.halfway) this.#spoiled ??= { error };
      throw error;
    } finally {
      this.halfway = false;
    }
  }
}
