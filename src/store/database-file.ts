import { type BigIntStats, closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";

/** How often, at most, the path is looked up again; the descriptor is checked on every call. */
const PATH_CHECK_MS = 1_000;

export type FileProblem = "file_deleted" | "file_replaced";

/**
 * The database file as a store opened it, to notice when it is deleted or replaced underneath.
 * SQLite goes on reading and writing a file that was unlinked (its descriptor keeps it alive)
 * without a word, and everything written after that is lost when the process ends.
 *
 * Two checks. Every call reads the link count of a descriptor of the file (one fstat, ~1.5 us):
 * it drops to 0 when the file is deleted, or when another file is renamed over it, which are
 * the ways its data gets lost. At most every second, and when asked to be thorough, the path
 * is looked up again and its device and inode compared, which also notices a symlink pointed
 * elsewhere or one of several hard links removed; the data then still lives under another name.
 *
 * The descriptor is opened before SQLite opens the file (its header is checked through it) and
 * closed only after SQLite's connection: closing any descriptor of a file drops every fcntl
 * lock the process holds on it, SQLite's included (see DatabaseOwnerLock).
 */
export class DatabaseFile {
  readonly #fd: number;
  readonly #dev: bigint;
  readonly #ino: bigint;
  #pathCheckedAt = 0;
  #problem: FileProblem | undefined;
  #closed = false;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.#fd = fd;
    // As bigints: an inode number may not fit a double.
    const stat = fstatSync(fd, { bigint: true });
    this.#dev = stat.dev;
    this.#ino = stat.ino;
  }

  /** Opens the file at `path` (before SQLite does, or just after it created it). */
  static open(path: string): DatabaseFile {
    return new DatabaseFile(path, openSync(path, "r"));
  }

  /** Opens the file at `path` when there is one. */
  static openIfExists(path: string): DatabaseFile | undefined {
    return existsSync(path) ? DatabaseFile.open(path) : undefined;
  }

  /** The file's size in bytes now. */
  get size(): number {
    return fstatSync(this.#fd).size;
  }

  /** The file's first `length` bytes, or fewer when it is shorter. */
  readStart(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    return buffer.subarray(0, readSync(this.#fd, buffer, 0, length, 0));
  }

  /** Undefined while the file at the path is still the one opened; once it is not, for good. */
  problem(thorough = false): FileProblem | undefined {
    // Closed, the descriptor's number may already belong to another file.
    if (this.#problem || this.#closed) return this.#problem;
    const now = performance.now();
    if (fstatSync(this.#fd).nlink === 0) {
      this.#problem = this.#pathProblem() ?? "file_deleted";
    } else if (thorough || now - this.#pathCheckedAt >= PATH_CHECK_MS) {
      this.#pathCheckedAt = now;
      this.#problem = this.#pathProblem();
    }
    return this.#problem;
  }

  #pathProblem(): FileProblem | undefined {
    let stat: BigIntStats | undefined;
    try {
      stat = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined; // cannot tell (a permission changed on the way): no verdict
    }
    if (!stat) return "file_deleted";
    return stat.dev === this.#dev && stat.ino === this.#ino ? undefined : "file_replaced";
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
