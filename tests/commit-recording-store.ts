import { Database } from "bun:sqlite";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore, silentLogger, TaskManager } from "../src/index.ts";
import { FIXTURE_TASKS, tempDir } from "./helpers.ts";

/**
 * A synchronous SQLite store that records what each transaction the engine makes (through the
 * `SqliteTaskStore` over it, `.tasks`) holds: a create as `<id>:created`, a transition as
 * `<id>:<new status>`. With `failCommits` a COMMIT fails as a full disk makes it fail, after
 * every write inside it returned.
 */
export class CommitRecordingStore extends SqliteSyncStore {
  readonly commits: string[][] = [];
  failCommits = false;
  #open: string[] | undefined;
  /** The store on the asynchronous port the engine runs on. */
  readonly tasks = new SqliteTaskStore(this);

  override transactionControl(...args: Parameters<SqliteSyncStore["transactionControl"]>): void {
    const [command] = args;
    if (command === "begin") {
      super.transactionControl(...args);
      this.#open = [];
      return;
    }
    if (command === "commit" || command === "rollback") {
      const written = this.#open;
      this.#open = undefined;
      if (written) this.commits.push(written);
      // With WAL the pages reach the disk at COMMIT, so a full disk fails there.
      if (command === "commit" && this.failCommits) {
        throw Object.assign(new Error("database or disk is full"), {
          name: "SQLiteError",
          code: "SQLITE_FULL",
        });
      }
    }
    super.transactionControl(...args);
  }

  override createTask(...args: Parameters<SqliteSyncStore["createTask"]>) {
    const row = super.createTask(...args);
    this.#open?.push(`${row.id}:created`);
    return row;
  }

  override transition(...args: Parameters<SqliteSyncStore["transition"]>) {
    const row = super.transition(...args);
    if (row) this.#open?.push(`${row.id}:${row.status}`);
    return row;
  }
}

/**
 * A started manager on a CommitRecordingStore, with the fixture tasks, and a second read-only
 * connection (`reader`) that sees only what is committed. What it opens is pushed to `cleanups`,
 * to be undone in reverse order.
 */
export async function startRecordingManager(cleanups: (() => Promise<void> | void)[], concurrency = 2) {
  const dir = tempDir();
  const path = join(dir.path, "kiln.db");
  const store = new CommitRecordingStore({ path });
  const manager = new TaskManager({ store: store.tasks, concurrency, logger: silentLogger });
  cleanups.push(() => dir.remove());
  cleanups.push(() => store.close());
  cleanups.push(() => manager.shutdown());
  await manager.load(FIXTURE_TASKS);
  await manager.start();
  const reader = new Database(path, { readonly: true });
  cleanups.push(() => reader.close());
  return { store, manager, reader, path };
}
