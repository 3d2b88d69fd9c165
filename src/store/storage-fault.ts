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
  | "file_replaced";

/** A failure of the storage itself, not of the statement: kiln cannot write until it clears. */
export interface StorageFault {
  cause: StorageFaultCause;
  /** SQLite's (extended) result code name, e.g. "SQLITE_FULL"; undefined when kiln found it itself. */
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
};

/** The command that copies what is readable out of a damaged database; see `kiln recover`. */
export const RECOVER_HINT = "kiln recover --db <damaged file> --to <new file>";

const REMEDIES: Partial<Record<StorageFaultCause, string>> = {
  corrupt: `restore it from a backup, or copy what is still readable into a new file with \`${RECOVER_HINT}\``,
  file_deleted:
    "kiln refuses writes rather than acknowledge them into a file that is gone; put the database back and restart kiln",
  file_replaced:
    "kiln refuses writes rather than acknowledge them into a file that is no longer at its path; restart kiln to use the new file",
};

function fault(cause: StorageFaultCause, code: string | undefined): StorageFault {
  const remedy = REMEDIES[cause];
  return { cause, code, description: DESCRIPTIONS[cause], ...(remedy ? { remedy } : {}) };
}

/** The fault in one line for an operator: what it is, its code, and what to do when waiting will not do. */
export function describeFault(fault: StorageFault): string {
  const code = fault.code ? ` (${fault.code})` : "";
  return `${fault.description}${code}${fault.remedy ? `: ${fault.remedy}` : ""}`;
}

/** The fault of a database file that is no longer the one at its path. */
export function fileFault(cause: "file_deleted" | "file_replaced"): StorageFault {
  return fault(cause, undefined);
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
  if (!(error instanceof Error) || error.name !== "SQLiteError") return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  const cause = causeOf(code, path);
  return cause === undefined ? undefined : fault(cause, code);
}
