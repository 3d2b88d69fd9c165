// The floor under a durable run on this machine: what the two things kiln cannot skip cost when
// nothing else runs, beside what the engine spends in the same run.
//   1. A run's round trip to a Bun Worker (one `run` message out, one `finished` back, one run in
//      flight per worker, as the engine has it): CPU of every thread per round trip.
//   2. SQLite's part of one task, by the engine's own statement texts on a file this checkout
//      migrated: a create and its history row (250 a commit, as `submit()` batches them), then a
//      start and an end, each with its history row, `k` tasks to a commit for k = 1 … 16. The WAL is
//      checkpointed outside the timed part (kiln does it on another thread).
//   3. The engine itself (`bench/port-cost-child.ts`: N no-op `submit()` at concurrency 2, the
//      default on 2 cores, and 4): tasks/s and CPU per task, on the main thread and in all.
// Rounds interleave the three. The last table adds the floors up and divides the machine's cores
// by them: the most tasks a second any design with a Worker round trip and three durable history
// rows per task reaches here, with no engine code at all.
// Usage: bun bench/floor.ts [--n 20000] [--rounds 3]
import { Database } from "bun:sqlite";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { SqliteEventBuffer } from "../src/store/sqlite-event-buffer.ts";
import { migrateWith, runBunChild } from "./child-run.ts";
import { ECHO_WORKER, END, historyRow, INSERT_TASK, START, useKilnPragmas } from "./engine-statements.ts";
import { RUN_MESSAGE } from "./run-message.ts";
import { formatTable, loadAverage, mainThreadCpuMs, median, type Row, round, tempDir } from "./util.ts";

const ROOT = join(import.meta.dir, "..");
const COMMIT_SIZES = [1, 2, 4, 8, 16];
const WORKER_COUNTS = [2, 4];
const CREATES_PER_COMMIT = 250;
/** Commits between two checkpoints, which are not timed. */
const COMMITS_PER_CHECKPOINT = 200;

function parseArgs(argv: string[]): { n: number; rounds: number } {
  const args = { n: 20_000, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--n") args.n = value;
    else if (argv[i] === "--rounds") args.rounds = value;
  }
  if (!Number.isInteger(args.n) || args.n < 100 || !Number.isInteger(args.rounds) || args.rounds < 1) {
    console.error("usage: bun bench/floor.ts [--n 20000] [--rounds 3]");
    process.exit(2);
  }
  return args;
}

/** CPU µs of every thread of this process so far. */
function processCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

// ---- 1. Worker round trips ----------------------------------------------------------------------

/** A `run` message as the engine sends it for a no-op task, as JSON text (see port-text.ts). */
const RUN_TEXT = JSON.stringify(RUN_MESSAGE);

interface Measured {
  perSec: number;
  allThreadsUs: number;
  mainThreadUs: number | null;
}

async function workerRoundTrips(workers: number, n: number): Promise<Measured> {
  const url = URL.createObjectURL(new Blob([ECHO_WORKER], { type: "application/javascript" }));
  const pool = Array.from({ length: workers }, () => new Worker(url));
  try {
    const once = (worker: Worker) =>
      new Promise<void>((resolve) => {
        worker.onmessage = () => resolve();
        worker.postMessage(RUN_TEXT);
      });
    // Warm both sides up before the timed part.
    for (let i = 0; i < 200; i++) await Promise.all(pool.map(once));
    const main0 = mainThreadCpuMs();
    const cpu0 = processCpuUs();
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let sent = 0;
      let done = 0;
      for (const worker of pool) {
        worker.onmessage = (event: MessageEvent<string>) => {
          JSON.parse(event.data);
          done++;
          if (done === n) resolve();
          else if (sent < n) {
            sent++;
            worker.postMessage(RUN_TEXT);
          }
        };
        sent++;
        worker.postMessage(RUN_TEXT);
      }
    });
    const ms = performance.now() - t0;
    const main1 = mainThreadCpuMs();
    return {
      perSec: (n / ms) * 1000,
      allThreadsUs: (processCpuUs() - cpu0) / n,
      mainThreadUs: main0 === null || main1 === null ? null : ((main1 - main0) * 1000) / n,
    };
  } finally {
    for (const worker of pool) worker.terminate();
    URL.revokeObjectURL(url);
  }
}

// ---- 2. SQLite's part of a task --------------------------------------------------------------------

/** µs of the main thread per task: the create, and the start plus end at each commit size. */
async function sqliteTask(
  template: string,
  n: number,
): Promise<{ create: number; byCommitSize: Map<number, number> }> {
  const tmp = tempDir("floor");
  try {
    await Bun.write(tmp.db, Bun.file(template));
    const db = new Database(tmp.db);
    useKilnPragmas(db);
    const insert = db.prepare(INSERT_TASK);
    const start = db.prepare(START);
    const end = db.prepare(END);
    // The engine's own buffer: one multi-row history INSERT a commit.
    const events = new SqliteEventBuffer(db);
    const checkpoint = () => db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const total = n * COMMIT_SIZES.length;
    const ids = Array.from({ length: total }, () => Bun.randomUUIDv7());

    let createMs = 0;
    for (let from = 0; from < total; from += CREATES_PER_COMMIT) {
      const t0 = performance.now();
      db.exec("BEGIN");
      const now = Date.now();
      for (const id of ids.slice(from, from + CREATES_PER_COMMIT)) {
        insert.run(id, "bench-noop", "PENDING", null, 0, null, null, null, null, null, null, now, now);
        events.add(id, now, historyRow(null, "PENDING", "create"));
      }
      events.flush();
      db.exec("COMMIT");
      createMs += performance.now() - t0;
      if ((from / CREATES_PER_COMMIT) % 40 === 39) checkpoint();
    }
    checkpoint();

    const byCommitSize = new Map<number, number>();
    let next = 0;
    for (const size of COMMIT_SIZES) {
      let ms = 0;
      let running: string[] = [];
      let commits = 0;
      const last = next + n;
      // Each commit holds the ends of the runs the previous one started and `size` new starts.
      while (next < last || running.length > 0) {
        const starting = ids.slice(next, Math.min(last, next + size));
        next += starting.length;
        const t0 = performance.now();
        db.exec("BEGIN");
        const now = Date.now();
        for (const id of running) {
          end.run("FINISHED", "null", now, null, null, null, 1, now, id, "RUNNING");
          events.add(id, now, historyRow("RUNNING", "FINISHED", "finish"));
        }
        for (const id of starting) {
          start.run("RUNNING", now, null, null, null, now, now, id, "PENDING");
          events.add(id, now, historyRow("PENDING", "RUNNING", "start"));
        }
        events.flush();
        db.exec("COMMIT");
        ms += performance.now() - t0;
        running = starting;
        if (++commits % COMMITS_PER_CHECKPOINT === 0) checkpoint();
      }
      checkpoint();
      byCommitSize.set(size, (ms * 1000) / n);
    }
    db.close();
    return { create: (createMs * 1000) / total, byCommitSize };
  } finally {
    tmp.cleanup();
  }
}

// ---- 3. The engine ---------------------------------------------------------------------------

interface EngineRun {
  tasksPerSec: number;
  mainThreadCpuUsPerTask: number | null;
  threadCpuUsPerTask: Record<string, number | null>;
}

/** CPU µs a task of every thread of the engine's process. */
function allThreadsUs(run: EngineRun): number {
  return Object.values(run.threadCpuUsPerTask).reduce<number>((sum, us) => sum + (us ?? 0), 0);
}

async function engine(concurrency: number, n: number): Promise<EngineRun> {
  const run = await runBunChild(
    [join(import.meta.dir, "port-cost-child.ts"), ROOT, String(n), String(concurrency)],
    300_000,
  );
  if (run.code !== 0 || !run.lastLine) throw new Error(`the engine run failed: ${run.err}`);
  return JSON.parse(run.lastLine) as EngineRun;
}

// ---- the rounds ---------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
const cores = availableParallelism();
const templateDir = tempDir("floor-template");
const template = templateDir.db;
await migrateWith(ROOT, template);

const trips = new Map<number, Measured[]>(WORKER_COUNTS.map((c) => [c, []]));
const creates: number[] = [];
const transitions = new Map<number, number[]>(COMMIT_SIZES.map((k) => [k, []]));
const engines = new Map<number, EngineRun[]>(WORKER_COUNTS.map((c) => [c, []]));

try {
  for (let round_ = 0; round_ < args.rounds; round_++) {
    const parts: Array<() => Promise<void>> = [
      async () => {
        for (const c of WORKER_COUNTS) trips.get(c)?.push(await workerRoundTrips(c, args.n * 2));
      },
      async () => {
        const sqlite = await sqliteTask(template, args.n);
        creates.push(sqlite.create);
        for (const [k, us] of sqlite.byCommitSize) transitions.get(k)?.push(us);
      },
      async () => {
        for (const c of WORKER_COUNTS) engines.get(c)?.push(await engine(c, args.n));
      },
    ];
    // Rotate the order each round, so no part always meets the machine in the same state.
    for (let i = 0; i < parts.length; i++) await parts[(i + round_) % parts.length]?.();
    console.error(`round ${round_ + 1}/${args.rounds} done (load ${loadAverage()})`);
  }
} finally {
  templateDir.cleanup();
}

const med = (values: number[]) => round(median(values), 1);
const spread = (values: number[]) => `${round(Math.min(...values), 1)}–${round(Math.max(...values), 1)}`;

console.log(
  `\nThe floor under a durable run: ${cores} cores, Bun ${Bun.version}, ${args.rounds} rounds of ${args.n} tasks\n`,
);
console.log("1. A run's round trip to a Bun Worker (JSON text both ways), no store");
console.log(
  formatTable(
    WORKER_COUNTS.map((c): Row => {
      const of = trips.get(c) ?? [];
      return {
        workers: c,
        "round trips/s": Math.round(median(of.map((m) => m.perSec))),
        "CPU µs, all threads": med(of.map((m) => m.allThreadsUs)),
        "CPU µs, main thread": med(of.flatMap((m) => (m.mainThreadUs === null ? [] : [m.mainThreadUs]))),
      };
    }),
  ),
);
console.log("\n2. SQLite's part of a task, the engine's statements, main thread µs a task (median, range)");
console.log(
  formatTable([
    {
      part: `create + history row, ${CREATES_PER_COMMIT} a commit`,
      "µs/task": med(creates),
      range: spread(creates),
    },
    ...COMMIT_SIZES.map(
      (k): Row => ({
        part: `start + end + 2 history rows, ${k} task(s) a commit`,
        "µs/task": med(transitions.get(k) ?? []),
        range: spread(transitions.get(k) ?? []),
      }),
    ),
  ]),
);
console.log("\n3. The engine: N no-op submit() (bench/port-cost-child.ts), medians");
console.log(
  formatTable(
    WORKER_COUNTS.map((c): Row => {
      const of = engines.get(c) ?? [];
      return {
        concurrency: c,
        "tasks/s": Math.round(median(of.map((r) => r.tasksPerSec))),
        "main thread µs/task": med(
          of.flatMap((r) => (r.mainThreadCpuUsPerTask === null ? [] : [r.mainThreadCpuUsPerTask])),
        ),
        "all threads µs/task": med(of.map(allThreadsUs)),
      };
    }),
  ),
);

// What a task needs at the least at concurrency c: at most c ends share a commit (a worker has
// one run at a time), so the transitions' floor is the one at commit size c.
console.log(`\n4. The floor a task, at concurrency c, against the engine (${cores} cores)`);
console.log(
  formatTable(
    WORKER_COUNTS.map((c): Row => {
      const trip = med((trips.get(c) ?? []).map((m) => m.allThreadsUs));
      const sqlite = med(creates) + med(transitions.get(c) ?? []);
      const floor = trip + sqlite;
      const of = engines.get(c) ?? [];
      const engineAll = med(of.map(allThreadsUs));
      return {
        concurrency: c,
        "floor µs (round trip + SQLite)": round(floor, 1),
        // The writes go through one connection: SQLite's part never spreads over cores.
        "tasks/s at most": Math.round(Math.min((cores * 1e6) / floor, 1e6 / sqlite)),
        "engine µs, all threads": engineAll,
        "engine ÷ floor": round(engineAll / floor, 2),
        "engine tasks/s": Math.round(median(of.map((r) => r.tasksPerSec))),
      };
    }),
  ),
);
process.exit(0);
