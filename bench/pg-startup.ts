// Start-up and list pages of kiln on PostgreSQL with 1,000,000 ended tasks: the rows written
// with one INSERT … SELECT over generate_series (and one for their three history events each),
// then exec of bench/pg-serve.ts → first 200 on /health over several launches, and the latency
// of list pages (one request in flight) on a server that has settled.
// Usage: bun bench/pg-startup.ts [--rows 1000000] [--launches 5] [--out file.json]
// Its database (pgbench_startup_<random>) is created on the local server and dropped after.
import { writeFileSync } from "node:fs";
import { SQL } from "bun";
import { PostgresTaskStore } from "../src/index.ts";
import { type LoadFigures, load } from "./http-client.ts";
import { pgUrl } from "./peers/postgres.ts";
import { ServeProcess } from "./serve-process.ts";
import { formatTable, loadAverage, median, round } from "./util.ts";

const PG_SERVE = Bun.fileURLToPath(new URL("./pg-serve.ts", import.meta.url));
const SPACING_MS = 10;

function numberFlag(name: string, fallback: number): number {
  const index = Bun.argv.indexOf(name);
  return index >= 0 ? Number(Bun.argv[index + 1]) : fallback;
}
const rows = numberFlag("--rows", 1_000_000);
const launches = numberFlag("--launches", 5);
const outIndex = Bun.argv.indexOf("--out");
const out = outIndex >= 0 ? Bun.argv[outIndex + 1] : undefined;

const database = `pgbench_startup_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
const admin = new SQL(pgUrl("postgres"), { max: 1 });
await admin.unsafe(`CREATE DATABASE ${database}`);
const url = pgUrl(database);

/** Tasks as the SQLite history scenario makes them: 98 % FINISHED, 1 % FAILED, 1 % STOPPED; tags "nightly" 1 in 10, "audit" 1 in 1,000. */
async function seed(): Promise<{ seedMs: number; byStatus: Record<string, number> }> {
  const store = new PostgresTaskStore({ url });
  await store.migrate();
  await store.close();
  const sql = new SQL(url, { max: 1 });
  try {
    const t0 = performance.now();
    const base = Date.now() - rows * SPACING_MS;
    const at = `(${base}::bigint + i * ${SPACING_MS})`;
    await sql.unsafe(`
      INSERT INTO tasks (id, task_name, status, params, result, error, attempt, retries, priority, tags,
                         start_time, end_time, last_run_time, created_at, updated_at)
      SELECT
        lpad(to_hex(${at} >> 16), 8, '0') || '-' || lpad(to_hex(${at} & 65535), 4, '0') || '-7' ||
          lpad(to_hex(i & 4095), 3, '0') || '-' || lpad(to_hex(32768 | ((i >> 12) & 16383)), 4, '0') || '-' ||
          lpad(to_hex((random() * 281474976710655)::bigint), 12, '0'),
        CASE WHEN i % 10 = 0 THEN 'walk-directory' ELSE 'bench-noop' END,
        CASE i % 100 WHEN 7 THEN 'FAILED' WHEN 13 THEN 'STOPPED' ELSE 'FINISHED' END,
        ('{"n":' || i || '}')::json,
        CASE i % 100 WHEN 7 THEN NULL WHEN 13 THEN NULL ELSE 'null'::json END,
        CASE i % 100 WHEN 7 THEN '{"name":"Error","message":"boom","retryable":false}'::json END,
        1, 0, 0,
        CASE WHEN i % 1000 = 5 THEN '["audit"]'::jsonb WHEN i % 10 = 3 THEN '["nightly"]'::jsonb END,
        ${at} + 1, ${at} + 3, ${at} + 1, ${at}, ${at} + 3
      FROM generate_series(0, ${rows - 1}::bigint) AS i`);
    await sql.unsafe(`
      INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor)
      SELECT id, created_at, NULL, 'PENDING', 'create', NULL, NULL FROM tasks
      UNION ALL SELECT id, start_time, 'PENDING', 'RUNNING', 'start', NULL, 'kiln' FROM tasks
      UNION ALL SELECT id, end_time, 'RUNNING', status,
        CASE status WHEN 'FINISHED' THEN 'finish' WHEN 'FAILED' THEN 'fail' ELSE 'stop' END, NULL, 'kiln'
      FROM tasks`);
    await sql.unsafe("VACUUM ANALYZE tasks");
    await sql.unsafe("VACUUM ANALYZE task_events");
    const seedMs = round(performance.now() - t0, 0);
    const counted = (await sql.unsafe("SELECT status, count(*)::int AS n FROM tasks GROUP BY status")) as {
      status: string;
      n: number;
    }[];
    return { seedMs, byStatus: Object.fromEntries(counted.map((r) => [r.status, r.n])) };
  } finally {
    await sql.close();
  }
}

const QUERIES = [
  "/tasks?limit=50",
  "/tasks?status=FAILED&limit=50",
  "/tasks?status=FINISHED&limit=50",
  "/tasks?tag=nightly&limit=50",
  "/tasks?tag=audit&limit=50",
];

try {
  const seeded = await seed();
  console.error(`seeded ${rows} tasks in ${seeded.seedMs} ms: ${JSON.stringify(seeded.byStatus)}`);
  const command = [process.execPath, PG_SERVE];
  const healthMs: number[] = [];
  const exitMs: number[] = [];
  const loads: (number | null)[] = [];
  for (let i = 0; i < launches; i++) {
    loads.push(loadAverage());
    const server = await ServeProcess.launch(command, url, "/health");
    healthMs.push(round(server.firstOkMs, 1));
    exitMs.push(round(await server.stop(), 1));
    console.error(`launch ${i + 1}: exec → 200 /health ${healthMs.at(-1)} ms (load ${loads.at(-1)})`);
  }
  const phases: LoadFigures[] = [];
  const server = await ServeProcess.launch(command, url, "/health");
  try {
    // The first count of tasks (what /stats waits for) is part of start-up, not of a list page.
    await (await fetch(`${server.base}/stats`)).arrayBuffer();
    await Bun.sleep(2_000);
    for (const path of QUERIES) {
      phases.push(
        await load(server, {
          label: `GET ${path}`,
          concurrency: 1,
          warmupMs: 250,
          ms: 3_000,
          next: () => ({ path }),
          expect: 200,
        }),
      );
    }
  } finally {
    await server.stop();
  }
  const table = phases.map((p) => ({
    query: p.path,
    requests: p.requests,
    errors: p.errors,
    "median ms": p.latencyMs.median,
    "p99 ms": p.latencyMs.p99,
    "max ms": p.latencyMs.max,
  }));
  console.log(
    `exec → 200 /health over ${launches} launches: median ${median(healthMs)} ms (${healthMs.join(", ")}); SIGTERM → exit median ${median(exitMs)} ms; load avg before each: ${loads.join(", ")}`,
  );
  console.log(formatTable(table));
  if (out)
    writeFileSync(
      out,
      `${JSON.stringify({ rows, seeded, healthMs, exitMs, loads, phases: table }, null, 2)}\n`,
    );
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.close();
}
