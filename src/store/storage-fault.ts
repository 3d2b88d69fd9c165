import { accessSync, constants, existsSync } from "node:fs";

/** Why the database cannot be written (or read). */
export type StorageFaultCause =
  | "disk_full"
  | "read_only"
  | "io_error"
  | "cannot_open"
  | "busy"
  | "corrupt"
  | "file_deleted"
  | "file_replaced"
  /** A networked database (PostgreSQL) cannot be reached, or dropped the connection. */
  | "unreachable";

/** A failure of the storage itself, not of the statement: kiln cannot write until it clears. */
export interface StorageFault {
  cause: StorageFaultCause;
  /**
   * The driver's code: SQLite's (extended) result code name, e.g. "SQLITE_FULL", or PostgreSQL's
   * SQLSTATE or the socket's error code; undefined when kiln found it itself.
   */
  code: string | undefined;
  /** What an operator reads: the cause in plain words. */
  description: string;
  /** For a fault that waiting does not clear: what the operator must do. */
  remedy?: string;
}

const DESCRIPTIONS: Record<StorageFaultCause, string> = {
  disk_full: "the disk holding the database is full",
  read_only: "the database file is read-only",
  io_error: "the disk reported an I/O error",
  cannot_open: "the database file cannot be opened",
  busy: "the database stayed locked by another connection past the busy timeout",
  corrupt: "the database file is damaged",
  file_deleted: "the database file was deleted while kiln had it open",
  file_replaced: "another file was put at the database's path while kiln had the old one open",
  unreachable: "the database server cannot be reached, or it closed the connection",
};

/** The same causes on a database server (PostgreSQL), where there is no file of kiln's to speak of. */
const SERVER_DESCRIPTIONS: Partial<Record<StorageFaultCause, string>> = {
  disk_full: "the database server's disk is full",
  read_only:
    "the database server accepts only read-only transactions (a standby, or default_transaction_read_only is on)",
  io_error: "the database server reported an I/O error",
  corrupt: "the database server reported damaged data",
  unreachable: DESCRIPTIONS.unreachable,
};

/**
 * A fault a database server reported (or its connection showed): `code` is the SQLSTATE or the
 * socket's error code, `detail` the server's own words.
 */
export function serverFault(
  cause: "disk_full" | "read_only" | "io_error" | "corrupt" | "unreachable",
  code: string | undefined,
  detail?: string,
): StorageFault {
  const what = SERVER_DESCRIPTIONS[cause] ?? DESCRIPTIONS[cause];
  return { cause, code, description: detail ? `${what}: ${detail}` : what };
}

const NOT_A_DATABASE = "the file is not a database, or its header is damaged";

/** Where `kiln recover` is suggested to write what it can read of a damaged `path`. */
export function recoveredPath(path: string): string {
  return path.endsWith(".db") ? `${path.slice(0, -3)}-recovered.db` : `${path}-recovered`;
}

const REMEDIES: Partial<Record<StorageFaultCause, (path: string | undefined) => string>> = {
  corrupt: (path) =>
    path && path !== ":memory:"
      ? `restore it from a backup, or copy what is still readable into a new file with \`kiln recover --db ${path} --to ${recoveredPath(path)}\` and start kiln on that`
      : "restore it from a backup, or copy what is still readable into a new file with `kiln recover`",
  file_deleted: () =>
    "kiln refuses writes rather than acknowledge them into a file that is gone; put the database back and restart kiln",
  file_replaced: () =>
    "kiln refuses writes rather than acknowledge them into a file that is no longer at its path; restart kiln to use the new file",
};

function fault(
  cause: StorageFaultCause,
  code: string | undefined,
  path: string | undefined,
  detail?: string,
): StorageFault {
  const remedy = REMEDIES[cause]?.(path);
  // A file that is not SQLite's at all may be the wrong file as well as a damaged one.
  const what = code === "SQLITE_NOTADB" ? NOT_A_DATABASE : DESCRIPTIONS[cause];
  const description = detail ? `${what}: ${detail}` : what;
  return { cause, code, description, ...(remedy ? { remedy } : {}) };
}

/** The fault in one line for an operator: what it is, its code, and what to do when waiting will not do. */
export function describeFault(fault: StorageFault): string {
  const code = fault.code ? ` (${fault.code})` : "";
  return `${fault.description}${code}${fault.remedy ? `: ${fault.remedy}` : ""}`;
}

/** The fault of a database file that is no longer the one at its path. */
export function fileFault(cause: "file_deleted" | "file_replaced"): StorageFault {
  return fault(cause, undefined, undefined);
}

/** kiln's own finding that the file is damaged (its header against its size), reported as SQLite's are. */
export class DatabaseCorruptError extends Error {
  override readonly name = "DatabaseCorruptError";

  constructor(
    /** What is wrong, in words: "it is cut short: …". */
    readonly detail: string,
    readonly code: "SQLITE_CORRUPT" | "SQLITE_NOTADB" = "SQLITE_CORRUPT",
  ) {
    super(`${code === "SQLITE_NOTADB" ? NOT_A_DATABASE : DESCRIPTIONS.corrupt}: ${detail}`);
  }
}

/**
 * SQLite reports a write refused by the file system (EPERM on an immutable file, EROFS) as a
 * plain I/O error; a write-permission probe of the database and its WAL tells the two apart.
 * Root passes permission bits, but not the immutable flag or a read-only mount.
 */
function looksReadOnly(path: string | undefined): boolean {
  if (!path || path === ":memory:") return false;
  for (const file of [path, `${path}-wal`]) {
    if (!existsSync(file)) continue;
    try {
      accessSync(file, constants.W_OK);
    } catch {
      return true;
    }
  }
  return false;
}

function causeOf(code: string, path: string | undefined): StorageFaultCause | undefined {
  if (code === "SQLITE_FULL") return "disk_full";
  if (code.startsWith("SQLITE_READONLY")) return "read_only";
  if (code.startsWith("SQLITE_IOERR")) return looksReadOnly(path) ? "read_only" : "io_error";
  if (code.startsWith("SQLITE_CANTOPEN")) return "cannot_open";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "busy";
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") return "corrupt";
  return undefined;
}

/**
 * The storage fault behind an error thrown by a SQLite call, or undefined when the error is
 * anything else (a constraint, a bug). `path` is the database file, used to tell a read-only
 * file from a failing disk.
 */
export function storageFaultOf(error: unknown, path?: string): StorageFault | undefined {
  if (error instanceof DatabaseCorruptError) return fault("corrupt", error.code, path, error.detail);
  if (!(error instanceof Error) || error.name !== "SQLiteError") return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  const cause = causeOf(code, path);
  return cause === undefined ? undefined : fault(cause, code, path);
}
