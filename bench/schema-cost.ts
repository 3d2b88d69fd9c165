// What the `tasks` table's newer columns and indexes cost each task, apart from the engine: the same
// fixed statements (a create with its history row; then, two tasks per commit unless told otherwise,
// each one's end and the next one's start with their history rows, as the engine's commits hold
// them) on an empty file migrated by an older checkout and on one migrated by this one, with and
// without the newer indexes. Each run is a fresh child process on a fresh copy; variants
// interleave, the order rotating from run to run.
// Usage: bun bench/schema-cost.ts --old <kiln checkout> [--runs 7] [--n 20000] [--per-commit 2]
// --per-commit 1 is the commits of concurrency 2 (the default on 2 cores): each task's end and the
// next start commit alone, so a page an index dirties is a page per task.
import { copyFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { migrateWith, runBunChild } from "./child-run.ts";
import { formatTable, median, type Row, round, tempDir } from "./util.ts";

const SELF = Bun.fileURLToPath(import.meta.url);
const NEW_ROOT = join(import.meta.dir, "..");
/** Indexes of `tasks` the older schema has not, made by later migrations. */
const NEWER_INDEXES = ["tasks_end_time", "tasks_rate_last_run", "tasks_awaiting", "tasks_parent_id"];
/** A WAL frame: its header and one page of 4,096 bytes. */
const FRAME_BYTES = 24 + 4096;

interface Variant {
  name: string;
  /** Which checkout migrates the file. */
  root: "old" | "new";
  drop: string[];
}

const VARIANTS: Variant[] = [
  { name: "older schema", root: "old", drop: [] },
  { name: "this schema", root: "new", drop: [] },
  { name: "this schema without tasks_end_time", root: "new", drop: ["tasks_end_time"] },
  { name: "this schema without its 4 newer indexes", root: "new", drop: NEWER_INDEXES },
];

interface Measured {
  createUsPerTask: number;
  runUsPerTask: number;
  walFramesPerCommit: number;
}

/** The child: the statements on the file at `path`, N tasks. */
async function child(path: string, n: number, perCommit: number): Promise<Measured> {
  const { Database } = await import("bun:sqlite");
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  const insert = db.prepare(
    "INSERT INTO tasks (id, task_name, status, params, priority, run_at, idempotency_key, tags, traceparent, request_id, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const event = db.prepare(
    "INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const start = db.prepare(
    "UPDATE tasks SET status = 'RUNNING', last_run_time = ?, start_time = coalesce(start_time, ?), updated_at = ? WHERE id = ? AND status IN ('PENDING')",
  );
  const finish = db.prepare(
    "UPDATE tasks SET status = 'FINISHED', result = 'null', end_time = ?, active_ms = active_ms + 1, updated_at = ? WHERE id = ? AND status IN ('RUNNING')",
  );
  const ids = Array.from({ length: n }, () => Bun.randomUUIDv7());
  let t0 = Bun.nanoseconds();
  db.exec("BEGIN");
  for (let i = 0; i < n; i++) {
    const now = Date.now();
    insert.run(
      ids[i] as string,
      "bench-noop",
      "PENDING",
      "null",
      0,
      null,
      null,
      null,
      null,
      null,
      null,
      now,
      now,
    );
    event.run(ids[i] as string, now, null, "PENDING", "create", null, "kiln", null);
    // Creates commit in chunks of 250, as the peers' single enqueues do.
    if (i % 250 === 249) {
      db.exec("COMMIT");
      db.exec("BEGIN");
    }
  }
  db.exec("COMMIT");
  const createNs = Bun.nanoseconds() - t0;
  const walAfterCreates = statSync(`${path}-wal`).size;
  t0 = Bun.nanoseconds();
  let commits = 0;
  for (let i = 0; i < n; i += perCommit) {
    db.exec("BEGIN");
    for (let j = i; j < i + perCommit; j++) {
      const now = Date.now();
      const ended = ids[j - 2];
      if (ended !== undefined) {
        finish.run(now, now, ended);
        event.run(ended, now, "RUNNING", "FINISHED", "finish", null, "kiln", null);
      }
      const id = ids[j];
      if (id === undefined) continue;
      start.run(now, now, now, id);
      event.run(id, now, "PENDING", "RUNNING", "start", null, "kiln", null);
    }
    db.exec("COMMIT");
    commits++;
  }
  const runNs = Bun.nanoseconds() - t0;
  const frames = (statSync(`${path}-wal`).size - walAfterCreates) / FRAME_BYTES;
  db.close();
  return {
    createUsPerTask: round(createNs / n / 1000, 2),
    runUsPerTask: round(runNs / n / 1000, 2),
    walFramesPerCommit: round(frames / commits, 2),
  };
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const index = Bun.argv.indexOf(name);
    return index >= 0 ? Bun.argv[index + 1] : undefined;
  };
  const childPath = arg("--child");
  const n = Number(arg("--n") ?? 20_000);
  const perCommit = Number(arg("--per-commit") ?? 2);
  if (!Number.isInteger(perCommit) || perCommit < 1) {
    console.error("--per-commit: a whole number of tasks, at least 1");
    process.exit(2);
  }
  if (childPath) {
    console.log(JSON.stringify(await child(childPath, n, perCommit)));
    return;
  }
  const old = arg("--old");
  const runs = Number(arg("--runs") ?? 7);
  if (!old || !Number.isInteger(runs) || runs < 1) {
    console.error(
      "usage: bun bench/schema-cost.ts --old <kiln checkout> [--runs 7] [--n 20000] [--per-commit 2]",
    );
    process.exit(2);
  }
  const tmp = tempDir("schema-cost");
  try {
    const templates = new Map<string, string>();
    for (const variant of VARIANTS) {
      const path = join(tmp.dir, `${templates.size}.db`);
      await migrateWith(variant.root === "old" ? old : NEW_ROOT, path);
      if (variant.drop.length > 0) {
        const { Database } = await import("bun:sqlite");
        const db = new Database(path);
        for (const index of variant.drop) db.exec(`DROP INDEX ${index}`);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        db.close();
      }
      templates.set(variant.name, path);
    }
    const samples = new Map<string, Measured[]>(VARIANTS.map((v) => [v.name, []]));
    for (let run = 0; run < runs; run++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
      for (const variant of order) {
        const path = join(tmp.dir, "run.db");
        for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
        copyFileSync(templates.get(variant.name) as string, path);
        const { code, lastLine, err } = await runBunChild(
          [SELF, "--child", path, "--n", String(n), "--per-commit", String(perCommit)],
          120_000,
        );
        if (code !== 0 || !lastLine) throw new Error(`${variant.name}: exit ${code}: ${err}`);
        const measured = JSON.parse(lastLine) as Measured;
        samples.get(variant.name)?.push(measured);
        console.error(
          `run ${run + 1}/${runs} ${variant.name}: create ${measured.createUsPerTask} µs, run ${measured.runUsPerTask} µs a task, ${measured.walFramesPerCommit} WAL frames a commit`,
        );
      }
    }
    const base = samples.get("older schema") ?? [];
    const rows: Row[] = VARIANTS.map((variant) => {
      const list = samples.get(variant.name) ?? [];
      const ratios = list.map((m, i) => m.runUsPerTask / (base[i]?.runUsPerTask ?? Number.NaN));
      return {
        schema: variant.name,
        runs: list.length,
        "create µs/task": median(list.map((m) => m.createUsPerTask)),
        "end + start µs/task": median(list.map((m) => m.runUsPerTask)),
        "÷ older schema, per run": round(median(ratios), 3),
        "WAL frames/commit": median(list.map((m) => m.walFramesPerCommit)),
      };
    });
    console.log(
      `\n${n} tasks: creates committed 250 at a time, then ends and starts ${perCommit} task${perCommit === 1 ? "" : "s"} a commit; medians of ${runs} runs\n`,
    );
    console.log(formatTable(rows));
  } finally {
    tmp.cleanup();
  }
}

await main();
