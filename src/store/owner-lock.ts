import { Database } from "bun:sqlite";

/** A database file that another live process (or another manager in this one) already owns. */
export class DatabaseInUseError extends Error {
  override readonly name = "DatabaseInUseError";
  readonly code = "database_in_use";

  constructor(readonly path: string) {
    super(
      `database ${path} is in use by another kiln process: one kiln owns a database file at a time ` +
        "(stop the other one, or give this one its own --db)",
    );
  }
}

const isBusy = (error: unknown) =>
  error instanceof Error &&
  /SQLITE_BUSY|database is locked/i.test(`${(error as { code?: string }).code} ${error.message}`);

/**
 * One owner per database file. Two engines on one file would each schedule and restore the
 * same tasks. The owner holds an exclusive SQLite lock on `<db>.lock` for as long as it
 * lives: the operating system drops it when the process dies, even by SIGKILL, so a crash
 * never leaves a stale lock behind, and SQLite's own bookkeeping makes a second connection
 * from the same process fail the same way.
 */
export class DatabaseOwnerLock {
  readonly #lock: Database;
  #released = false;

  private constructor(lock: Database) {
    this.#lock = lock;
  }

  static acquire(databasePath: string): DatabaseOwnerLock {
    const lock = new Database(`${databasePath}.lock`, { create: true });
    try {
      lock.exec("PRAGMA busy_timeout = 0");
      lock.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      lock.close();
      if (isBusy(error)) throw new DatabaseInUseError(databasePath);
      throw error;
    }
    return new DatabaseOwnerLock(lock);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#lock.exec("ROLLBACK");
    } finally {
      this.#lock.close();
    }
  }
}
