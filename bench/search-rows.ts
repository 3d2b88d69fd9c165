// Fills a fresh kiln database, SQLite or PostgreSQL, with ended tasks whose params have fields to
// search, in bulk with plain SQL: kiln's own migration creates the schema, then INSERT … SELECT
// over a counter writes the tasks in id order and their searchable fields (task_params) as kiln
// writes them at create (src/store/param-fields.ts), so the indexes are as a long-lived kiln has them.
import { Database } from "bun:sqlite";
import postgres from "postgres";
import { PostgresTaskStore, SqliteSyncStore, searchableParamFields } from "../src/store/index.ts";

/** Tasks were created this many ms apart, ending now. */
export const SPACING_MS = 10;
/** customerId is one of this many: each customer has rows / CUSTOMERS tasks. */
export const CUSTOMERS = 10_000;
/** region is one of this many: a region holds 1 / REGIONS of the tasks. */
export const REGIONS = 5;
/** One task in this many failed, one in this many (offset) is still pending (no end time); the rest finished. */
const STATUS_EVERY = 100;
/** One task in this many has the second name. */
const OTHER_NAME_EVERY = 10;
/** A task ended up to this many ms after it was created (i % 1000 × 50 ms): end order is not id order. */
const END_SPREAD = "(i % 1000) * 50";

export const SEARCH_MIX = `${100 - 200 / STATUS_EVERY}% FINISHED, ${100 / STATUS_EVERY}% FAILED, ${100 / STATUS_EVERY}% PENDING (no end time), one in ${OTHER_NAME_EVERY} named walk-directory; params {"customerId": "c-<i mod ${CUSTOMERS}>", "order": {"id": i}, "region": "r<i mod ${REGIONS}>"}; created ${SPACING_MS} ms apart, ended 3 ms to 50 s after`;

/** The params of task i, as the rows hold them; the generator checks its side rows against kiln's own rule. */
export function paramsOf(i: number) {
  return { customerId: `c-${i % CUSTOMERS}`, order: { id: i }, region: `r${i % REGIONS}` };
}

export interface FilledDatabase {
  rows: number;
  /** Creation time of task 0 (epoch ms); task i was created at base + i × SPACING_MS. */
  base: number;
  fillMs: number;
}

function checkRule(): void {
  const fields = searchableParamFields(paramsOf(1234));
  const expected = [
    { path: "customerId", value: "c-1234" },
    { path: "order.id", value: "1234" },
    { path: "region", value: "r4" },
  ];
  if (JSON.stringify(fields) !== JSON.stringify(expected)) {
    throw new Error(`the generator's task_params rows no longer match kiln's: ${JSON.stringify(fields)}`);
  }
}

export function fillSqlite(path: string, rows: number): FilledDatabase {
  checkRule();
  const store = new SqliteSyncStore({ path });
  store.migrate();
  store.close();
  const db = new Database(path);
  const t0 = performance.now();
  try {
    db.exec("PRAGMA journal_mode = OFF");
    db.exec("PRAGMA synchronous = OFF");
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec("PRAGMA cache_size = -262144");
    const base = Date.now() - rows * SPACING_MS;
    const at = `(${base} + i * ${SPACING_MS})`;
    // UUIDv7 layout: 48-bit ms timestamp, version 7, variant 10; so ids sort by creation time as kiln's do.
    db.exec(`
      WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${rows - 1})
      INSERT INTO tasks (id, task_name, status, params, attempt, retries, priority,
                         start_time, end_time, last_run_time, created_at, updated_at)
      SELECT
        printf('%08x-%04x-7%03x-%04x-%012x', ${at} >> 16, ${at} & 65535, i & 4095,
               32768 | ((i >> 12) & 16383), abs(random()) % 281474976710656),
        CASE WHEN i % ${OTHER_NAME_EVERY} = 0 THEN 'walk-directory' ELSE 'bench-noop' END,
        CASE i % ${STATUS_EVERY} WHEN 7 THEN 'FAILED' WHEN 13 THEN 'PENDING' ELSE 'FINISHED' END,
        '{"customerId":"c-' || (i % ${CUSTOMERS}) || '","order":{"id":' || i || '},"region":"r' || (i % ${REGIONS}) || '"}',
        1, 0, 0,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE ${at} + 1 END,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE ${at} + 3 + ${END_SPREAD} END,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE ${at} + 1 END,
        ${at}, ${at} + 3
      FROM seq`);
    db.exec(`
      INSERT INTO task_params (task_id, path, value)
      SELECT id, 'customerId', json_extract(params, '$.customerId') FROM tasks
      UNION ALL SELECT id, 'order.id', CAST(json_extract(params, '$.order.id') AS TEXT) FROM tasks
      UNION ALL SELECT id, 'region', json_extract(params, '$.region') FROM tasks
      ORDER BY 1, 2`);
    db.exec("PRAGMA journal_mode = WAL");
    return { rows, base, fillMs: Math.round(performance.now() - t0) };
  } finally {
    db.close();
  }
}

export async function fillPostgres(url: string, rows: number): Promise<FilledDatabase> {
  checkRule();
  // Two: migrate holds one connection for its lock and runs the migrations on another.
  const store = new PostgresTaskStore({ url, max: 2 });
  await store.migrate();
  await store.close();
  // postgres.js, as the store uses: Bun's own SQL client did not connect to the local server here.
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const t0 = performance.now();
  try {
    const base = Date.now() - rows * SPACING_MS;
    await sql.unsafe("SET synchronous_commit = off");
    await sql.unsafe("SET maintenance_work_mem = '256MB'");
    await sql.unsafe(`
      INSERT INTO tasks (id, task_name, status, params, attempt, retries, priority,
                         start_time, end_time, last_run_time, created_at, updated_at)
      SELECT
        lpad(to_hex(at >> 16), 8, '0') || '-' || lpad(to_hex(at & 65535), 4, '0') || '-7' ||
          lpad(to_hex(i & 4095), 3, '0') || '-' || lpad(to_hex(32768 | ((i >> 12) & 16383)), 4, '0') || '-' ||
          lpad(to_hex((random() * 281474976710655)::bigint), 12, '0'),
        CASE WHEN i % ${OTHER_NAME_EVERY} = 0 THEN 'walk-directory' ELSE 'bench-noop' END,
        CASE i % ${STATUS_EVERY} WHEN 7 THEN 'FAILED' WHEN 13 THEN 'PENDING' ELSE 'FINISHED' END,
        ('{"customerId":"c-' || (i % ${CUSTOMERS}) || '","order":{"id":' || i || '},"region":"r' || (i % ${REGIONS}) || '"}')::json,
        1, 0, 0,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE at + 1 END,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE at + 3 + ${END_SPREAD} END,
        CASE i % ${STATUS_EVERY} WHEN 13 THEN NULL ELSE at + 1 END,
        at, at + 3
      FROM generate_series(0, ${rows - 1}) AS i, LATERAL (SELECT ${base}::bigint + i * ${SPACING_MS} AS at) AS t`);
    await sql.unsafe(`
      INSERT INTO task_params (task_id, path, value)
      SELECT id, 'customerId', params->>'customerId' FROM tasks
      UNION ALL SELECT id, 'order.id', params->'order'->>'id' FROM tasks
      UNION ALL SELECT id, 'region', params->>'region' FROM tasks`);
    await sql.unsafe("VACUUM ANALYZE tasks, task_params");
    return { rows, base, fillMs: Math.round(performance.now() - t0) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
