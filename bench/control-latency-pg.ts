// Pause and stop latency of kiln on PostgreSQL beside kiln on SQLite: the control-latency
// scenario's trials (a task that checkpoints about every millisecond, request → PAUSED / STOPPED
// committed and announced) on a TaskManager over each store, in alternating blocks.
// Usage: bun bench/control-latency-pg.ts [--blocks 2] [--trials 100] [--out file.json]
import { writeFileSync } from "node:fs";
import { PostgresTaskStore, silentLogger, TaskManager } from "../src/index.ts";
import { type ModeFigures, measureMode } from "./control-latency.ts";
import { createDatabase, dropDatabase, pgUrl } from "./peers/postgres.ts";
import { EventWaiter, formatTable, loadAverage, type Row, TASKS_URL, tempDir } from "./util.ts";

type StoreKind = "sqlite" | "postgres";

function numberFlag(name: string, fallback: number): number {
  const index = Bun.argv.indexOf(name);
  return index >= 0 ? Number(Bun.argv[index + 1]) : fallback;
}

async function block(kind: StoreKind, trials: number): Promise<ModeFigures[]> {
  const tmp = tempDir("control-pg");
  const database = `pgbench_control_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  let store: PostgresTaskStore | undefined;
  if (kind === "postgres") {
    await createDatabase(database);
    store = new PostgresTaskStore({ url: pgUrl(database) });
  }
  const manager = new TaskManager({
    ...(store ? { store } : { db: tmp.db }),
    concurrency: 2,
    logger: silentLogger,
  });
  const waiter = new EventWaiter(manager);
  try {
    await manager.load(TASKS_URL);
    await manager.start();
    const modes: ModeFigures[] = [];
    for (const mode of ["sleep", "busy"] as const)
      modes.push(await measureMode(manager, waiter, mode, trials));
    return modes;
  } finally {
    waiter.close();
    await manager.shutdown();
    await store?.close();
    if (store) await dropDatabase(database);
    tmp.cleanup();
  }
}

const blocks = numberFlag("--blocks", 2);
const trials = numberFlag("--trials", 100);
const outIndex = Bun.argv.indexOf("--out");
const out = outIndex >= 0 ? Bun.argv[outIndex + 1] : undefined;
const rows: Row[] = [];
const raw: { block: number; store: StoreKind; load: number | null; modes: ModeFigures[] }[] = [];
for (let b = 0; b < blocks; b++) {
  const order: StoreKind[] = b % 2 === 0 ? ["sqlite", "postgres"] : ["postgres", "sqlite"];
  for (const kind of order) {
    const load = loadAverage();
    const modes = await block(kind, trials);
    raw.push({ block: b, store: kind, load, modes });
    for (const m of modes)
      for (const [what, s] of [
        ["pause → PAUSED", m.pause],
        ["stop → STOPPED", m.stop],
      ] as const)
        rows.push({
          block: b + 1,
          store: kind,
          task: m.mode === "sleep" ? "sleep(1)" : "busy 1ms",
          what,
          trials: s.n,
          "median ms": s.median,
          "p99 ms": s.p99,
          "max ms": s.max,
          "load avg before": load ?? "-",
        });
    console.error(`block ${b + 1} ${kind} done (load ${load})`);
  }
}
console.log(formatTable(rows));
if (out) writeFileSync(out, `${JSON.stringify({ blocks, trials, raw, rows }, null, 2)}\n`);
process.exit(0);
