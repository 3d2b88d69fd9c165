import { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, TaskStore } from "../../src/index.ts";
import { SqliteSyncStore, SqliteTaskStore } from "../../src/store/index.ts";

/** A way to make the database unwritable and writable again, on a directory the test owns. */
export interface StorageFault {
  name: string;
  /** True when the fault is real (the file system refuses), false when a store wrapper fakes it. */
  real: boolean;
  /** The words the 503's message names the cause with. */
  says: RegExp;
  cause: "disk_full" | "read_only";
  dir: { path: string; remove: () => void };
  /** A store to hand the manager instead of a path (the injected fault only). */
  store?: TaskStore;
  /** Async: a real full disk first empties the WAL, waiting for the server's readers (see `emptyWal`). */
  start(): Promise<void>;
  clear(): void;
}

function sh(command: string[]): boolean {
  return Bun.spawnSync(command, { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

/** Checkpoints the WAL into the database and truncates it, through a connection of its own. */
async function emptyWal(dbPath: string): Promise<void> {
  if (!existsSync(dbPath)) return;
  const db = new Database(dbPath);
  db.exec("PRAGMA busy_timeout = 0");
  try {
    const truncate = db.query<{ busy: number; log: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)");
    // The server's checkpointer may hold the checkpoint lock for a moment, and a server in this
    // process holds a read transaction until its turn ends (its reads' snapshot), which a
    // TRUNCATE waits for: wait without blocking the event loop.
    for (let attempt = 0; attempt < 200; attempt++) {
      const result = truncate.get();
      if (result?.busy === 0 && result.log <= 0) return;
      await Bun.sleep(5);
    }
    throw new Error("could not empty the WAL before filling the disk");
  } finally {
    db.close();
  }
}

/** A real full disk: a small tmpfs holding the database, filled up with a file (needs root). */
export function diskFull(): StorageFault | undefined {
  const path = mkdtempSync(join(tmpdir(), "kiln-disk-full-"));
  if (!sh(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", path])) {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(path, "filler");
  return {
    name: "disk full (a real tmpfs, filled up)",
    real: true,
    says: /disk holding the database is full \(SQLITE_FULL\)/,
    cause: "disk_full",
    dir: {
      path,
      remove: () => {
        sh(["umount", "-l", path]);
        rmSync(path, { recursive: true, force: true });
      },
    },
    async start() {
      // A WAL with room absorbs commits on a full disk (the writer starts it over once it is
      // checkpointed, without new blocks); empty it first so the next commit needs new space.
      await emptyWal(join(path, "kiln.db"));
      const fd = openSync(filler, "w");
      try {
        // Big chunks first, then pages, so the last free page goes too.
        for (const size of [1 << 20, 4096, 512]) {
          const chunk = new Uint8Array(size);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    clear() {
      rmSync(filler, { force: true });
    },
  };
}

/**
 * A real read-only database: the immutable flag on the file and its WAL, which even root cannot
 * write through. Never on the `-shm` file: SQLite writes it through a memory map, and a refused
 * write there is a SIGBUS that kills the process (seen with Bun 1.4.5).
 */
export function readOnlyFile(): StorageFault | undefined {
  const path = mkdtempSync(join(tmpdir(), "kiln-read-only-"));
  const probe = join(path, "probe");
  closeSync(openSync(probe, "w"));
  const works = sh(["chattr", "+i", probe]) && sh(["chattr", "-i", probe]);
  if (!works) {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  }
  const files = [join(path, "kiln.db"), join(path, "kiln.db-wal")];
  return {
    name: "read-only file (chattr +i on the database and its WAL)",
    real: true,
    says: /database file is read-only/,
    cause: "read_only",
    dir: {
      path,
      remove: () => {
        sh(["chattr", "-i", ...files]);
        rmSync(path, { recursive: true, force: true });
      },
    },
    async start() {
      if (!sh(["chattr", "+i", ...files])) throw new Error("chattr +i failed");
    },
    clear() {
      if (!sh(["chattr", "-i", ...files])) throw new Error("chattr -i failed");
    },
  };
}

/** Fails every write the way bun:sqlite reports a full disk; for machines where no real fault can be made. */
class FaultInjectingStore extends SqliteSyncStore {
  failing = false;
  #check(): void {
    if (!this.failing) return;
    throw Object.assign(new Error("database or disk is full"), { name: "SQLiteError", code: "SQLITE_FULL" });
  }
  override createTask(...args: Parameters<SqliteSyncStore["createTask"]>) {
    this.#check();
    return super.createTask(...args);
  }
  override transition(...args: Parameters<SqliteSyncStore["transition"]>) {
    this.#check();
    return super.transition(...args);
  }
  override updateTask(...args: Parameters<SqliteSyncStore["updateTask"]>) {
    this.#check();
    return super.updateTask(...args);
  }
  override writeTelemetry(...args: Parameters<SqliteSyncStore["writeTelemetry"]>) {
    this.#check();
    return super.writeTelemetry(...args);
  }
  override deleteTask(id: string) {
    this.#check();
    return super.deleteTask(id);
  }
}

export function injectedDiskFull(): StorageFault {
  const path = mkdtempSync(join(tmpdir(), "kiln-injected-"));
  const store = new FaultInjectingStore({ path: join(path, "kiln.db") });
  return {
    name: "disk full (injected by a store wrapper)",
    real: false,
    says: /disk holding the database is full \(SQLITE_FULL\)/,
    cause: "disk_full",
    dir: {
      path,
      remove: () => {
        store.close();
        rmSync(path, { recursive: true, force: true });
      },
    },
    store: new SqliteTaskStore(store),
    async start() {
      store.failing = true;
    },
    clear() {
      store.failing = false;
    },
  };
}

/**
 * The faults this machine can produce for real (as root with CAP_SYS_ADMIN for the mount and
 * CAP_LINUX_IMMUTABLE for chattr), or the injected one when it can produce none.
 */
export function availableFaults(): StorageFault[] {
  // KILN_FAULTS=injected runs the injected fault even where real ones can be made.
  if (process.env.KILN_FAULTS === "injected") return [injectedDiskFull()];
  const real = [diskFull(), readOnlyFile()].filter((fault): fault is StorageFault => fault !== undefined);
  return real.length > 0 ? real : [injectedDiskFull()];
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that keeps what it is told. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}
