import { Database } from "bun:sqlite";
import { closeSync, constants, fstatSync, openSync, statSync } from "node:fs";
import { tryFlockExclusive, unflock } from "./flock.ts";

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

/** The file itself, whatever path, hard link or symlink leads to it. Bigints: an inode number may not fit a double. */
const fileKey = (stat: { dev: bigint; ino: bigint }) => `${stat.dev}:${stat.ino}`;

/** Files this process owns now, by device and inode. */
const ownedHere = new Set<string>();

/**
 * Descriptors that must stay open: closing any descriptor of a file drops every POSIX lock this
 * process holds on it, SQLite's included. See DatabaseOwnerLock.
 */
const keptOpen: number[] = [];

function statIfExists(path: string) {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

const isBusy = (error: unknown) =>
  error instanceof Error &&
  /SQLITE_BUSY|database is locked/i.test(`${(error as { code?: string }).code} ${error.message}`);

/**
 * One owner per database file. Two engines on one file would each schedule and restore the
 * same tasks, and through a hard link each would even keep its own WAL (SQLite names it after
 * the path), which corrupts the file.
 *
 * So the lock is on the file itself, not on a path: an exclusive `flock(2)` on a descriptor of
 * the database file, opened before SQLite opens it. A hard link is the same inode and a symlink
 * leads to it, so every way to the file meets the same lock. The kernel drops a flock when the
 * process dies, even by SIGKILL, so a crash never leaves a stale lock behind.
 *
 * Why flock and not fcntl: SQLite locks the same file with fcntl (POSIX) record locks. On Linux
 * those and flock locks are separate kinds that never conflict, so the owner lock
 * leaves SQLite's locking alone. A fcntl lock of our own would instead share SQLite's table of
 * record locks in this process and be merged with them. One POSIX rule still applies: closing
 * any descriptor of a file drops every fcntl lock this process holds on it. So the descriptor
 * is closed only once the store is closed (the engine releases the lock after closing the
 * store), a second engine in this process is refused by inode before it opens a descriptor at
 * all, and a descriptor opened in a race with a manager of this process is kept, not closed.
 * (On NFS, Linux emulates flock with fcntl locks; SQLite in WAL mode does not work over network
 * file systems anyway.)
 *
 * Elsewhere than on Linux (where flock and fcntl locks may be one table, see flock.ts), the
 * lock falls back to an exclusive SQLite transaction on `<db>.lock`, which only guards that path.
 */
export class DatabaseOwnerLock {
  readonly #fd: number | undefined;
  readonly #key: string | undefined;
  readonly #pathLock: Database | undefined;
  #released = false;

  private constructor(held: { fd: number; key: string } | { pathLock: Database }) {
    if ("fd" in held) {
      this.#fd = held.fd;
      this.#key = held.key;
      ownedHere.add(held.key);
    } else {
      this.#pathLock = held.pathLock;
    }
  }

  /**
   * Locks the database file at `databasePath`, creating it (empty) when it does not exist.
   * Throws `DatabaseInUseError` when another owner holds it, and the file system's error when
   * the file cannot be opened at all (a missing directory, no permission).
   */
  static acquire(databasePath: string): DatabaseOwnerLock {
    const existing = statIfExists(databasePath);
    if (existing && ownedHere.has(fileKey(existing))) throw new DatabaseInUseError(databasePath);
    // O_CREAT: the file must exist to be locked; SQLite takes an empty file as a new database.
    // Bun opens with O_CLOEXEC, so task processes never inherit the descriptor (and the lock).
    const fd = openSync(databasePath, constants.O_RDONLY | constants.O_CREAT, 0o644);
    const key = fileKey(fstatSync(fd, { bigint: true }));
    if (ownedHere.has(key)) {
      // The path changed between the stat and the open, to a file a manager here owns.
      keptOpen.push(fd);
      throw new DatabaseInUseError(databasePath);
    }
    const result = tryFlockExclusive(fd);
    if (result === "locked") return new DatabaseOwnerLock({ fd, key });
    closeSync(fd);
    if (result === "held-elsewhere") throw new DatabaseInUseError(databasePath);
    if (result !== undefined) {
      throw new Error(`cannot lock the database file ${databasePath}: flock failed (errno ${result.errno})`);
    }
    return new DatabaseOwnerLock({ pathLock: DatabaseOwnerLock.#lockPath(databasePath) });
  }

  static #lockPath(databasePath: string): Database {
    const lock = new Database(`${databasePath}.lock`, { create: true });
    try {
      lock.exec("PRAGMA busy_timeout = 0");
      lock.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      lock.close();
      if (isBusy(error)) throw new DatabaseInUseError(databasePath);
      throw error;
    }
    return lock;
  }

  /** Gives the file up. Call it after the store on the file is closed (see the class comment). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#fd !== undefined) {
      unflock(this.#fd);
      closeSync(this.#fd);
      if (this.#key) ownedHere.delete(this.#key);
      return;
    }
    try {
      this.#pathLock?.exec("ROLLBACK");
    } finally {
      this.#pathLock?.close();
    }
  }
}
