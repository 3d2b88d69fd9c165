/**
 * Where file tasks may read and write, as the operator configured it (`kiln serve --files-root`,
 * the TaskManager option `fileRoots`). kiln's built-in file tasks refuse any path outside it;
 * a task of your own that takes paths from its params can follow the same rule.
 */
export interface FileAccess {
  /** Real paths (symlinks resolved) of the directories file tasks may use; empty: none may be used. */
  readonly roots: readonly string[];
  /**
   * Paths no file task may read or write, even inside a root: kiln's database (and its -wal,
   * -shm and lock files), key and token files, the task files, `/proc`. Each protects itself,
   * everything below it, and every name that extends it (`kiln.db` protects `kiln.db-wal`).
   */
  readonly protectedPaths: readonly string[];
}

/** No roots: file tasks are disabled. */
export const NO_FILE_ACCESS: FileAccess = { roots: [], protectedPaths: [] };
