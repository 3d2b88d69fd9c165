import { Database, type Statement } from "bun:sqlite";
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
} from "node:fs";
import { DatabaseOwnerLock } from "./owner-lock.ts";
import { SqliteSyncStore } from "./sqlite.ts";
import { RESTORE_TAG_ROWS_SQL } from "./task-tags.ts";

/**
 * The tables kiln keeps, parents first: a history row, a dependency, a tag or a searchable param
 * field is only copied after its task, a fire after its schedule. Values are copied as stored: a ciphertext stays one, under its key.
 */
const TABLES = [
  "tasks",
  "task_dependencies",
  "task_params",
  "task_tags",
  "task_events",
  "task_logs",
  "schedules",
  "schedule_fires",
  "paused_task_types",
] as const;
type Table = (typeof TABLES)[number];

/** Rows that could not be read: every rowid after `after` and before `before` (the end when null). */
export interface SkippedStretch {
  after: number;
  before: number | null;
}

export interface TableRecovery {
  /** Rows copied into the new file. */
  copied: number;
  /** Rows read but refused by the new file: a history row whose task was lost, a value a CHECK refuses. */
  refused: number;
  skipped: SkippedStretch[];
}

export type RecoveryReport = Record<Table, TableRecovery>;

type Row = Record<string, string | number | bigint | null | Uint8Array>;

const ROWS_PER_TRANSACTION = 1_000;
/** Below every rowid kiln writes (they start at 1). */
const BEFORE_FIRST = -1;

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

function isCorruption(error: unknown): boolean {
  return (
    error instanceof Error && /SQLITE_(CORRUPT|NOTADB|IOERR)/.test(String((error as { code?: unknown }).code))
  );
}

function isConstraint(error: unknown): boolean {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith("SQLITE_CONSTRAINT");
}

/**
 * The rows of `table` in rowid order, walking around pages that cannot be read. When a read
 * fails, the next readable rowid is found by seeking further and further ahead (1, 2, 4, …
 * rows on), then back by halves to the first seek that works, so a damaged page costs the rows
 * on it and little more.
 */
class Salvage {
  readonly skipped: SkippedStretch[] = [];
  readonly #scan: Statement<Row, [number]>;
  readonly #seek: Statement<{ r: number }, [number]>;

  constructor(db: Database, table: Table, columns: string[]) {
    const list = columns.map(quoted).join(", ");
    // ">= from", never "> last": the seek goes to the page whose key range holds its key, and
    // the last row read may share that range with the damaged page after it.
    this.#scan = db.prepare(
      `SELECT rowid AS __rowid, ${list} FROM ${quoted(table)} WHERE rowid >= ? ORDER BY rowid`,
    );
    this.#seek = db.prepare(
      `SELECT rowid AS r FROM ${quoted(table)} WHERE rowid >= ? ORDER BY rowid LIMIT 1`,
    );
  }

  *rows(): Generator<Row> {
    let after = BEFORE_FIRST;
    let from = after + 1;
    for (;;) {
      try {
        for (const row of this.#scan.iterate(from)) {
          after = Number(row.__rowid);
          yield row;
        }
        return;
      } catch (error) {
        if (!isCorruption(error)) throw error;
      }
      const next = this.#nextReadable(after);
      this.skipped.push({ after, before: next ?? null });
      if (next === undefined) return;
      after = next - 1;
      from = next;
    }
  }

  /** The first rowid after `after` that a seek can reach, or undefined when none can. */
  #nextReadable(after: number): number | undefined {
    let bad = after;
    let step = 1;
    for (; !this.#reaches(after + step); step *= 2) {
      bad = after + step;
      if (after + step * 2 > Number.MAX_SAFE_INTEGER) return undefined;
    }
    let good = after + step;
    while (good - bad > 1) {
      const mid = bad + Math.floor((good - bad) / 2);
      if (this.#reaches(mid)) good = mid;
      else bad = mid;
    }
    const row = this.#seek.get(good);
    // Past the first rowid that failed: never the same stretch twice.
    return row ? Math.max(row.r, after + 2) : undefined;
  }

  #reaches(rowid: number): boolean {
    try {
      this.#seek.get(rowid);
      return true;
    } catch (error) {
      if (!isCorruption(error)) throw error;
      return false;
    }
  }
}

function columnsOf(db: Database, table: Table): string[] {
  return db
    .query<{ name: string }, []>(`PRAGMA table_info(${quoted(table)})`)
    .all()
    .map((c) => c.name);
}

/**
 * Copies every row of a damaged kiln database that can still be read into a new database with
 * kiln's current schema: tasks first, then their history and logs (a history row whose task
 * was lost is left out), then schedules, their fires (a fire whose schedule was lost is left
 * out) and the paused task names, each value as stored (a ciphertext stays one). What could
 * not be read is reported as stretches of rowids. Takes the owner lock of `source`, so no
 * server may be using it, and refuses to overwrite `target`. The new file is a kiln database
 * like any other: start kiln on it (with the same keys).
 */
export function recoverDatabase(source: string, target: string): RecoveryReport {
  if (!existsSync(source)) throw new Error(`there is no database at ${source}`);
  if (existsSync(target)) throw new Error(`${target} exists already: give a new file to write to`);
  const lock = DatabaseOwnerLock.acquire(source);
  try {
    const fresh = new SqliteSyncStore({ path: target, backgroundCheckpoints: false });
    try {
      fresh.migrate();
    } finally {
      fresh.close();
    }
    const readable = wholePages(source, target);
    const from = new Database(readable?.path ?? source, { readonly: true });
    const to = new Database(target, { strict: false });
    try {
      to.exec("PRAGMA foreign_keys = ON");
      const report = {} as RecoveryReport;
      for (const table of TABLES) report[table] = copyTable(from, to, table);
      // A tag row that could not be read comes back from its task's tags, if those could.
      to.exec(RESTORE_TAG_ROWS_SQL);
      to.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return report;
    } finally {
      to.close();
      from.close();
      readable?.remove();
    }
  } finally {
    lock.release();
  }
}

/**
 * SQLite takes a file shorter than its header says for damaged as a whole and reads none of
 * it. For such a file, a copy grown to its full length with zeroed pages (which read as
 * damaged pages, and are skipped) lets the pages before the cut be read. Undefined when the
 * file has the length its header gives.
 */
function wholePages(source: string, target: string): { path: string; remove: () => void } | undefined {
  const header = Buffer.alloc(100);
  const fd = openSync(source, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (read < 100) return undefined;
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const size = statSync(source).size;
  const length = Math.max(Math.ceil(size / pageSize), header.readUInt32BE(28)) * pageSize;
  if (length === size) return undefined;
  const path = `${target}.whole-pages`;
  copyFileSync(source, path);
  truncateSync(path, length);
  return { path, remove: () => rmSync(path, { force: true }) };
}

function copyTable(from: Database, to: Database, table: Table): TableRecovery {
  const targetColumns = new Set(columnsOf(to, table));
  let sourceColumns: string[];
  try {
    sourceColumns = columnsOf(from, table);
  } catch (error) {
    if (!isCorruption(error)) throw error;
    return { copied: 0, refused: 0, skipped: [{ after: BEFORE_FIRST, before: null }] };
  }
  // The damaged file may be of an older schema: the columns both have (the rest get defaults).
  const columns = sourceColumns.filter((column) => targetColumns.has(column));
  if (columns.length === 0) return { copied: 0, refused: 0, skipped: [] };
  const insert = to.prepare<unknown, Row[keyof Row][]>(
    `INSERT INTO ${quoted(table)} (${columns.map(quoted).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
  );
  const salvage = new Salvage(from, table, columns);
  const result: TableRecovery = { copied: 0, refused: 0, skipped: salvage.skipped };
  let pending = 0;
  to.exec("BEGIN");
  try {
    for (const row of salvage.rows()) {
      try {
        insert.run(...columns.map((column) => row[column] ?? null));
        result.copied++;
      } catch (error) {
        if (!isConstraint(error)) throw error;
        result.refused++;
      }
      if (++pending >= ROWS_PER_TRANSACTION) {
        to.exec("COMMIT");
        to.exec("BEGIN");
        pending = 0;
      }
    }
    to.exec("COMMIT");
  } catch (error) {
    to.exec("ROLLBACK");
    throw error;
  }
  return result;
}
