import { Database } from "bun:sqlite";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { DatabaseFile } from "./database-file.ts";
import {
  applyDurability,
  type Durability,
  type DurabilitySettings,
  readDurabilitySettings,
} from "./durability.ts";
import { checkFileHeader, probeEdges } from "./integrity.ts";
import { MIGRATIONS } from "./migrations.generated.ts";
import * as schema from "./schema.ts";
import { fileFault, type StorageFault } from "./storage-fault.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

/** Pages of WAL after which a commit checkpoints, when nothing else does (SQLite's default). */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** Drizzle over the store's connection. */
export type SqliteDb = BunSQLiteDatabase<typeof schema>;

/** How the SQLite store opens its file (the part of `SqliteSyncStoreOptions` that is not about keys). */
export interface SqliteConnectionOptions {
  /** Path of the database file, or ":memory:". */
  path: string;
  /**
   * Checkpoint the WAL from a thread of its own instead of inside the commits of the thread
   * that writes (default true for a file). See WalCheckpointer.
   */
  backgroundCheckpoints?: boolean;
  /** Background checkpoints failed and SQLite's automatic ones are back on; for a log line. */
  onCheckpointFallback?: (error: string) => void;
  /** What a commit survives (default "normal"); see `Durability`. */
  durability?: Durability | undefined;
}

/** The connection's page cache, in KiB. */
export const PAGE_CACHE_KIB = 32 * 1024;

/**
 * The SQLite store's one connection: the file opened and checked, its PRAGMAs, the migrations,
 * the WAL checkpointer beside it, and the close that checkpoints and lets go of the file.
 */
export class SqliteConnection {
  readonly path: string;
  readonly sqlite: Database;
  readonly db: SqliteDb;
  #closed = false;
  readonly #checkpointer: WalCheckpointer | undefined;
  readonly #file: DatabaseFile | undefined;

  constructor(options: SqliteConnectionOptions) {
    this.path = options.path;
    let file = options.path === ":memory:" ? undefined : DatabaseFile.openIfExists(options.path);
    try {
      // A file cut short is named as such, before SQLite reads it and says "malformed".
      if (file) checkFileHeader(file);
      this.sqlite = new Database(options.path, { create: true, strict: true });
    } catch (error) {
      file?.close();
      throw error;
    }
    try {
      // First: switching to WAL needs a lock, and another connection still closing the file
      // must make it wait, not fail with "database is locked".
      this.sqlite.exec("PRAGMA busy_timeout = 5000");
      // SQLite's default page cache is 2 MB: a page of 500 tasks scattered over a large file (a
      // rare tag's) reads each of their pages again on every request. 32 MB keeps them.
      this.sqlite.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
      this.sqlite.exec("PRAGMA journal_mode = WAL");
      applyDurability(this.sqlite, options.durability);
      this.sqlite.exec("PRAGMA foreign_keys = ON");
      if (options.path !== ":memory:") file ??= DatabaseFile.open(options.path);
      this.#file = file;
    } catch (error) {
      // A file that is not a database fails here: close it rather than leave it to the GC.
      this.sqlite.close();
      file?.close();
      throw error;
    }
    this.db = drizzle({ client: this.sqlite, schema });
    if (options.path !== ":memory:" && options.backgroundCheckpoints !== false) {
      this.sqlite.exec("PRAGMA wal_autocheckpoint = 0");
      this.#checkpointer = new WalCheckpointer({
        path: options.path,
        onRestartWanted: () => {
          // Between two of this connection's own commits, never inside a batch.
          if (!this.#closed && !this.sqlite.inTransaction) this.sqlite.exec("PRAGMA wal_checkpoint(PASSIVE)");
        },
        onFailure: (error) => {
          if (this.#closed) return;
          this.sqlite.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
          options.onCheckpointFallback?.(error);
        },
      });
    }
  }

  migrate(): void {
    // Drizzle's own migrator reads drizzle/'s files at run time; this feeds its dialect the copy
    // generated into the source (scripts/generate-migrations.ts), which is there wherever kiln runs:
    // a checkout, node_modules, the binary. `dialect` and `session` are internal, hence the cast.
    const internals = this.db as unknown as {
      dialect: { migrate(migrations: unknown, session: unknown, config: { migrationsFolder: string }): void };
      session: unknown;
    };
    internals.dialect.migrate(MIGRATIONS, internals.session, { migrationsFolder: "" });
  }

  /** True while a worker checkpoints the WAL and this connection's own checkpoints are off. */
  get checkpointsInBackground(): boolean {
    const row = this.sqlite.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get();
    return this.#checkpointer !== undefined && row?.wal_autocheckpoint === 0;
  }

  /** journal_mode and synchronous as this connection reports them. */
  durabilitySettings(): DurabilitySettings {
    return readDurabilitySettings(this.sqlite);
  }

  /** The first and last pages of every table and index (the header was checked on opening). */
  probeIntegrity(): void {
    if (this.path !== ":memory:") probeEdges(this.sqlite);
  }

  /**
   * Undefined while the file at the store's path is the one it opened; see DatabaseFile.
   * `thorough` looks the path up now rather than at most once a second.
   */
  fileProblem(thorough = false): StorageFault | undefined {
    const problem = this.#file?.problem(thorough);
    return problem ? fileFault(problem) : undefined;
  }

  /** Checkpoints the WAL into the main file and closes it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#checkpointer?.stop();
    try {
      const truncate = this.sqlite.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)");
      // The checkpointer's connection may take a moment to let go of the file after stop().
      for (let attempt = 0; attempt < 20 && truncate.get()?.busy === 1; attempt++) Bun.sleepSync(5);
      truncate.finalize();
    } finally {
      this.sqlite.close();
      this.#file?.close();
    }
  }
}
