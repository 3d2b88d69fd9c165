// Fills a fresh kiln database with ended tasks and their history in bulk, with plain SQL: kiln's
// own migration creates the schema (drizzle/0000_init.sql), then INSERT … SELECT over a counter
// writes the rows in two statements, in id order, as a long-lived kiln would have them.
// Run as a child process (`bun bench/history-rows.ts <db> <rows> <sample>`): when it exits, no
// connection of it can still hold a lock on the file the server opens next.
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { SqliteSyncStore } from "../src/index.ts";
import { RESTORE_TAG_ROWS_SQL } from "../src/store/task-tags.ts";
import { round } from "./util.ts";

/** One task in this many failed, one in this many (offset) was stopped; the rest finished. */
const STATUS_EVERY = 100;
/** One task in this many has a second task name, so a name filter has something to select. */
const OTHER_NAME_EVERY = 10;
/** Tags: one task in COMMON_TAG_EVERY carries COMMON_TAG, one in RARE_TAG_EVERY RARE_TAG; the rest none. */
export const COMMON_TAG = "nightly";
const COMMON_TAG_EVERY = 10;
export const RARE_TAG = "audit";
const RARE_TAG_EVERY = 1_000;
/** What the rows are, for the notes. */
export const HISTORY_MIX = `${100 - 200 / STATUS_EVERY}% FINISHED, ${100 / STATUS_EVERY}% FAILED, ${100 / STATUS_EVERY}% STOPPED, one in ${OTHER_NAME_EVERY} named walk-directory (the rest bench-noop), one in ${COMMON_TAG_EVERY} tagged "${COMMON_TAG}" and one in ${RARE_TAG_EVERY.toLocaleString("en-US")} "${RARE_TAG}"`;
/** Tasks were created this many ms apart, ending now. */
const SPACING_MS = 10;

export interface HistoryDb {
  tasks: number;
  events: number;
  byStatus: Record<string, number>;
  generateMs: number;
  fileBytes: number;
}

function generateHistory(path: string, tasks: number): HistoryDb {
  const store = new SqliteSyncStore({ path });
  store.migrate();
  store.close();

  const db = new Database(path);
  const t0 = performance.now();
  try {
    // Bulk load only: no rollback journal, no syncs, no FK checks (every event's task is inserted first).
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec("PRAGMA cache_size = -262144");
    const base = Date.now() - tasks * SPACING_MS;
    const at = `(${base} + i * ${SPACING_MS})`;
    // UUIDv7 layout: 48-bit ms timestamp, version 7, variant 10; so ids sort by creation time as kiln's do.
    db.exec(`
      WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${tasks - 1})
      INSERT INTO tasks (id, task_name, status, params, result, error, attempt, retries, priority, tags,
                         start_time, end_time, last_run_time, created_at, updated_at)
      SELECT
        printf('%08x-%04x-7%03x-%04x-%012x', ${at} >> 16, ${at} & 65535, i & 4095,
               32768 | ((i >> 12) & 16383), abs(random()) % 281474976710656),
        CASE WHEN i % ${OTHER_NAME_EVERY} = 0 THEN 'walk-directory' ELSE 'bench-noop' END,
        CASE i % ${STATUS_EVERY} WHEN 7 THEN 'FAILED' WHEN 13 THEN 'STOPPED' ELSE 'FINISHED' END,
        '{"n":' || i || '}',
        CASE i % ${STATUS_EVERY} WHEN 7 THEN NULL WHEN 13 THEN NULL ELSE 'null' END,
        CASE i % ${STATUS_EVERY} WHEN 7 THEN '{"name":"Error","message":"boom","retryable":false}' END,
        1, 0, 0,
        CASE WHEN i % ${RARE_TAG_EVERY} = 5 THEN '["${RARE_TAG}"]'
             WHEN i % ${COMMON_TAG_EVERY} = 3 THEN '["${COMMON_TAG}"]' END,
        ${at} + 1, ${at} + 3, ${at} + 1, ${at}, ${at} + 3
      FROM seq`);
    // Each tag's row, as kiln writes it at create (what the tag filter reads).
    db.exec(RESTORE_TAG_ROWS_SQL);
    db.exec(`
      INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor)
      SELECT id, created_at, NULL, 'PENDING', 'create', NULL, NULL FROM tasks
      UNION ALL SELECT id, start_time, 'PENDING', 'RUNNING', 'start', NULL, 'kiln' FROM tasks
      UNION ALL SELECT id, end_time, 'RUNNING', status,
        CASE status WHEN 'FINISHED' THEN 'finish' WHEN 'FAILED' THEN 'fail' ELSE 'stop' END, NULL, 'kiln'
      FROM tasks`);
    db.exec("PRAGMA journal_mode = WAL");
    const byStatus = Object.fromEntries(
      once(db, "SELECT status, count(*) AS n FROM tasks GROUP BY status").map((row) => [row.status, row.n]),
    );
    const events = Number(once(db, "SELECT count(*) AS n FROM task_events")[0]?.n ?? 0);
    const generateMs = round(performance.now() - t0, 0);
    db.close();
    return { tasks, events, byStatus, generateMs, fileBytes: statSync(path).size };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Ids of the tasks at these positions in insertion order (rowid), without scanning the table. */
function idsAt(path: string, positions: number[]): string[] {
  const db = new Database(path, { readonly: true });
  const query = db.prepare<{ id: string }, [number]>("SELECT id FROM tasks WHERE rowid = ?");
  try {
    return positions.flatMap((p) => {
      const row = query.get(p + 1);
      return row ? [row.id] : [];
    });
  } finally {
    query.finalize();
    db.close();
  }
}

/** Runs one query and finalizes it (a statement left to the garbage collector keeps its connection open). */
function once(db: Database, sql: string): Record<string, string | number>[] {
  const statement = db.prepare<Record<string, string | number>, []>(sql);
  try {
    return statement.all();
  } finally {
    statement.finalize();
  }
}

/** What the child process prints: the database's figures, `sample` random ids and the middle one. */
export interface GeneratedHistory {
  db: HistoryDb;
  ids: string[];
  middle: string | null;
}

if (import.meta.main) {
  const [path, rowsArg, sampleArg] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const sample = Number(sampleArg ?? 1_000);
  if (!path || !Number.isInteger(rows) || rows < 1) {
    console.error("usage: bun bench/history-rows.ts <db path> <rows> [sample] (run it through bench/run.ts)");
    process.exit(2);
  }
  const db = generateHistory(path, rows);
  const ids = idsAt(
    path,
    Array.from({ length: sample }, () => Math.floor(Math.random() * rows)),
  );
  const [middle] = idsAt(path, [Math.floor(rows / 2)]);
  console.log(JSON.stringify({ db, ids, middle: middle ?? null } satisfies GeneratedHistory));
  process.exit(0);
}
