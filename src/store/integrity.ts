import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { DatabaseFile } from "./database-file.ts";
import { DatabaseCorruptError } from "./storage-fault.ts";

const HEADER_BYTES = 100;
const MAGIC = "SQLite format 3\0";

/** A double-quoted SQL identifier. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The database file's first 100 bytes and its size against each other: a file cut short (a
 * copy that stopped, a truncated restore) fails here before SQLite reads a page of it. SQLite
 * writes whole pages, so a size that is not a multiple of the page size is a cut; and when no
 * WAL or rollback journal holds pages still to be copied in, the header's page count must fit
 * in the file.
 */
export function checkFileHeader(file: DatabaseFile): void {
  const size = file.size;
  if (size === 0) return; // a new database
  const header = file.readStart(HEADER_BYTES);
  if (header.length < HEADER_BYTES || header.toString("latin1", 0, 16) !== MAGIC) {
    throw new DatabaseCorruptError("it does not start with the SQLite header", "SQLITE_NOTADB");
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw new DatabaseCorruptError(`its header gives an impossible page size (${raw})`);
  }
  if (size % pageSize !== 0) {
    throw new DatabaseCorruptError(
      `it is cut short: ${size} bytes is not a whole number of ${pageSize}-byte pages`,
    );
  }
  // The header's page count is valid when "version-valid-for" matches the change counter.
  const pages = header.readUInt32BE(28);
  const countValid = header.readUInt32BE(92) === header.readUInt32BE(24);
  if (countValid && !journalHoldsPages(file.path) && pages * pageSize > size) {
    throw new DatabaseCorruptError(
      `it is cut short: its header counts ${pages} pages, the file holds ${size / pageSize}`,
    );
  }
}

/** A WAL past its 32-byte header, or a rollback journal: pages that may not be in the file yet. */
function journalHoldsPages(path: string): boolean {
  const wal = `${path}-wal`;
  return (existsSync(wal) && statSync(wal).size > 32) || existsSync(`${path}-journal`);
}

interface SchemaEntry {
  type: "table" | "index";
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** The queries that read one b-tree's first and last leaf, each by one seek. */
function edgeQueries(db: Database, entry: SchemaEntry): string[] {
  const table = quoted(entry.tbl_name);
  if (entry.type === "table") {
    if (/WITHOUT\s+ROWID/i.test(entry.sql ?? "")) return [];
    // Apart, not in one query: SQLite answers a lone min() or max() with one seek, both by a scan.
    return [`SELECT min(rowid) FROM ${table}`, `SELECT max(rowid) FROM ${table}`];
  }
  const [first] = db.query<{ name: string | null }, []>(`PRAGMA index_info(${quoted(entry.name)})`).all();
  if (!first?.name) return []; // an index on an expression: nothing simple to seek by
  const column = quoted(first.name);
  // A partial index can only be used by a query that implies its condition.
  const partial = /\sWHERE\s([\s\S]+)$/i.exec(entry.sql ?? "")?.[1];
  const where = partial ? ` WHERE ${partial}` : "";
  const from = `FROM ${table} INDEXED BY ${quoted(entry.name)}${where}`;
  return [
    `SELECT ${column} ${from} ORDER BY ${column} LIMIT 1`,
    `SELECT ${column} ${from} ORDER BY ${column} DESC LIMIT 1`,
  ];
}

/**
 * Reads the schema and the first and last leaf page of every table and index: a few dozen
 * pages whatever the size of the database, in about a millisecond. A file damaged at its end
 * (where an append-mostly database like kiln's last wrote) fails here with SQLITE_CORRUPT, at
 * start-up rather than on some request later. It cannot see damage in the middle of a table:
 * only reading every page can (`PRAGMA quick_check`, ~3.7 s per 700 MB), which `kiln check`
 * does, and a request that meets such a page answers 503, not 500.
 */
export function probeEdges(db: Database): void {
  const entries = db
    .query<SchemaEntry, []>(
      "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('table', 'index') AND rootpage > 0",
    )
    .all();
  for (const entry of entries) {
    for (const query of edgeQueries(db, entry)) {
      const statement = db.query(query);
      try {
        statement.all();
      } finally {
        statement.finalize();
      }
    }
  }
}

/** What `checkDatabase` found. */
export interface IntegrityReport {
  /** SQLite's findings, at most `MAX_PROBLEMS`; empty when the file is intact. */
  problems: string[];
  /** Rows of `tasks`, when the file could be read. */
  tasks: number | undefined;
  /** SQLITE_NOTADB when the file does not even start as a database; SQLITE_CORRUPT otherwise. */
  code: "SQLITE_CORRUPT" | "SQLITE_NOTADB";
}

const MAX_PROBLEMS = 20;

const isCorruption = (error: unknown) =>
  error instanceof DatabaseCorruptError ||
  (error instanceof Error && /SQLITE_(CORRUPT|NOTADB)/.test(String((error as { code?: unknown }).code)));

function countTasks(db: Database): number | undefined {
  const table = db.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'tasks'").get();
  return table ? db.query<{ n: number }, []>("SELECT count(*) AS n FROM tasks").get()?.n : undefined;
}

/**
 * Reads every page of the database at `path`: `PRAGMA integrity_check` (22.6 s on a 680 MiB
 * database of 1,000,000 tasks), or with `quick` `PRAGMA quick_check` (3.7 s), which skips the
 * check that each index matches its table. Read-only; safe beside a running server that opened
 * the file by the same path.
 */
export function checkDatabase(path: string, options: { quick?: boolean } = {}): IntegrityReport {
  const file = DatabaseFile.open(path);
  try {
    checkFileHeader(file);
    const db = new Database(path, { readonly: true });
    try {
      const pragma = options.quick ? "quick_check" : "integrity_check";
      // A row may hold several findings, one a line, under a "*** in database main ***"
      // heading; and on some damage SQLite gives its findings, then fails the statement.
      const findings: string[] = [];
      const check = db.query<Record<string, string>, []>(`PRAGMA ${pragma}(${MAX_PROBLEMS})`);
      try {
        for (const row of check.iterate()) findings.push(...String(Object.values(row)[0]).split("\n"));
      } catch (error) {
        if (!isCorruption(error)) throw error;
        findings.push((error as Error).message);
      } finally {
        check.finalize();
      }
      const problems = findings.filter((text) => text !== "ok" && !text.startsWith("*** "));
      return { problems, tasks: problems.length > 0 ? undefined : countTasks(db), code: "SQLITE_CORRUPT" };
    } finally {
      db.close();
    }
  } catch (error) {
    if (!isCorruption(error)) throw error;
    const detail = error instanceof DatabaseCorruptError ? error.detail : (error as Error).message;
    const notADatabase = (error as { code?: unknown }).code === "SQLITE_NOTADB";
    return { problems: [detail], tasks: undefined, code: notADatabase ? "SQLITE_NOTADB" : "SQLITE_CORRUPT" };
  } finally {
    file.close();
  }
}
