// Scenario "throughput": N no-op tasks created through the manager and run to FINISHED, every
// transition durable, at several concurrencies, and the same over HTTP (POST /tasks); against
// the bare SQLite cost of the same writes.
import { Database } from "bun:sqlite";
import {
  type ManagerEvent,
  SqliteSyncStore,
  SqliteTaskStore,
  silentLogger,
  TaskManager,
} from "../src/index.ts";
import { type HttpRun, runOverHttp } from "./http-throughput.ts";
import { writeNoopLifecycle } from "./store-lifecycle.ts";
import { timedStore } from "./timed-store.ts";
import {
  type BenchOptions,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
  TASKS_URL,
  tempDir,
  yieldToLoop,
} from "./util.ts";

const CONCURRENCIES = [2, 4, 8];
/** Server workers and client requests in flight for the run over HTTP. */
const HTTP_CONCURRENCY = 4;
const HTTP_CLIENT_CONCURRENCY = 16;
/** Creates issued between two yields to the event loop, as a stream of requests would. */
const CREATE_CHUNK = 250;
/** Untimed tasks written before a baseline's timed loop (JIT, page cache, statement caches). */
const BASELINE_WARMUP = 200;
/** The store-only baseline is a per-task rate: it needs no more tasks than this. */
const STORE_BASELINE_MAX = 5_000;

interface WriteBaseline {
  tasks: number;
  transactions: number;
  ms: number;
  tasksPerSec: number;
  transactionsPerSec: number;
}

/** The same three transactions per task as kiln writes, with plain prepared statements. */
function rawSqliteBaseline(n: number): WriteBaseline {
  const tmp = tempDir("raw");
  try {
    // kiln's own schema (tables, indexes, checks), so only the code path differs.
    const schemaStore = new SqliteSyncStore({ path: tmp.db });
    schemaStore.migrate();
    schemaStore.close();
    const db = new Database(tmp.db, { strict: true });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    const insertTask = db.prepare(
      "INSERT INTO tasks (id, task_name, status, params, priority, created_at, updated_at) VALUES ($id, 'bench-noop', 'PENDING', 'null', 0, $now, $now)",
    );
    const toRunning = db.prepare(
      "UPDATE tasks SET status = 'RUNNING', start_time = coalesce(start_time, $now), last_run_time = $now, run_at = NULL, requested_action = NULL, updated_at = $now WHERE id = $id AND status = 'PENDING'",
    );
    const toFinished = db.prepare(
      "UPDATE tasks SET status = 'FINISHED', result = 'null', end_time = $now, requested_action = NULL, error = NULL, updated_at = $now WHERE id = $id AND status = 'RUNNING'",
    );
    const insertEvent = db.prepare(
      "INSERT INTO task_events (task_id, at, from_status, to_status, action, reason, actor) VALUES ($id, $now, $from, $to, $action, NULL, 'kiln')",
    );
    const create = db.transaction((id: string, now: number) => {
      insertTask.run({ id, now });
      insertEvent.run({ id, now, from: null, to: "PENDING", action: "create" });
    });
    const start = db.transaction((id: string, now: number) => {
      toRunning.run({ id, now });
      insertEvent.run({ id, now, from: "PENDING", to: "RUNNING", action: "start" });
    });
    const finish = db.transaction((id: string, now: number) => {
      toFinished.run({ id, now });
      insertEvent.run({ id, now, from: "RUNNING", to: "FINISHED", action: "finish" });
    });
    const oneTask = (id: string) => {
      create(id, Date.now());
      start(id, Date.now());
      finish(id, Date.now());
    };
    for (let i = 0; i < BASELINE_WARMUP; i++) oneTask(Bun.randomUUIDv7());
    const ids = Array.from({ length: n }, () => Bun.randomUUIDv7());
    const t0 = performance.now();
    for (const id of ids) oneTask(id);
    const ms = performance.now() - t0;
    db.close();
    return baseline(n, ms);
  } finally {
    tmp.cleanup();
  }
}

/** The same three transitions through kiln's SqliteSyncStore (Drizzle, RETURNING), no workers. */
function kilnStoreBaseline(n: number): WriteBaseline {
  const tmp = tempDir("store");
  try {
    const store = new SqliteSyncStore({ path: tmp.db });
    store.migrate();
    const oneTask = (id: string) => writeNoopLifecycle(store, id, { createdBy: null });
    for (let i = 0; i < BASELINE_WARMUP; i++) oneTask(Bun.randomUUIDv7());
    const t0 = performance.now();
    for (let i = 0; i < n; i++) oneTask(Bun.randomUUIDv7());
    const ms = performance.now() - t0;
    store.close();
    return baseline(n, ms);
  } finally {
    tmp.cleanup();
  }
}

function baseline(n: number, ms: number): WriteBaseline {
  return {
    tasks: n,
    transactions: 3 * n,
    ms: round(ms, 1),
    tasksPerSec: round((n / ms) * 1000, 0),
    transactionsPerSec: round(((3 * n) / ms) * 1000, 0),
  };
}

/** How the run creates its tasks: `create()` commits each; `submit()` shares a commit per turn. */
type CreateApi = "create" | "submit";

interface ManagerRun {
  api: CreateApi;
  concurrency: number;
  tasks: number;
  finished: number;
  timedOut: boolean;
  createMs: number;
  totalMs: number;
  tasksPerSec: number;
  finishedInDb: number;
  warmupTasks: number;
  cpuPercent: number;
  storeMs: number;
  storeShare: number;
  storeByMethod: Record<string, { calls: number; ms: number }>;
}

function waitForFinished(manager: TaskManager, count: number, timeoutMs: number) {
  let finished = 0;
  let lastAt = 0;
  let unsubscribe = () => {};
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    unsubscribe = manager.subscribe((event: ManagerEvent) => {
      if (event.type !== "transition" || event.to !== "FINISHED") return;
      finished++;
      lastAt = performance.now();
      if (finished === count) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  return {
    done: done.finally(() => unsubscribe()),
    get finished() {
      return finished;
    },
    get lastAt() {
      return lastAt;
    },
  };
}

async function runManager(
  api: CreateApi,
  n: number,
  concurrency: number,
  timeoutMs: number,
): Promise<ManagerRun> {
  const tmp = tempDir(`throughput-${api}-c${concurrency}`);
  const timed = timedStore(new SqliteSyncStore({ path: tmp.db }));
  const store = new SqliteTaskStore(timed.store);
  const manager = new TaskManager({ store, concurrency, logger: silentLogger });
  try {
    await manager.load(TASKS_URL);
    await manager.start();
    // Warm-up: every worker spawned and has imported the task module before timing starts.
    const warmup = 2 * concurrency;
    const warm = waitForFinished(manager, warmup, 30_000);
    for (let i = 0; i < warmup; i++) void manager.create("bench-noop", null);
    if (!(await warm.done)) throw new Error("warm-up tasks did not finish within 30 s");
    Bun.gc(true);
    timed.reset();

    const wait = waitForFinished(manager, n, timeoutMs);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let chunk: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      if (api === "submit") chunk.push(manager.submit("bench-noop", null));
      else chunk.push(manager.create("bench-noop", null));
      if ((i + 1) % CREATE_CHUNK === 0) {
        await Promise.all(chunk);
        chunk = [];
        await yieldToLoop();
      }
    }
    await Promise.all(chunk);
    const createMs = performance.now() - t0;
    const completed = await wait.done;
    const totalMs = (completed ? wait.lastAt : performance.now()) - t0;
    const cpu = process.cpuUsage(cpu0);
    const timings = timed.timings();
    const finishedInDb = (await manager.store.countByStatus()).FINISHED;
    return {
      api,
      concurrency,
      tasks: n,
      finished: wait.finished,
      timedOut: !completed,
      createMs: round(createMs, 1),
      totalMs: round(totalMs, 1),
      tasksPerSec: round((wait.finished / totalMs) * 1000, 0),
      finishedInDb,
      warmupTasks: warmup,
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / totalMs) * 100, 0),
      storeMs: timings.totalMs,
      storeShare: round(timings.totalMs / totalMs, 3),
      storeByMethod: timings.byMethod,
    };
  } finally {
    await manager.shutdown();
    await store.close();
    tmp.cleanup();
  }
}

export const throughput: Scenario = {
  name: "throughput",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const n = options.quick ? 2_000 : 20_000;
    const timeoutMs = options.quick ? 45_000 : 90_000;
    const raw = rawSqliteBaseline(n);
    const storeOnly = kilnStoreBaseline(Math.min(n, STORE_BASELINE_MAX));
    const runs: ManagerRun[] = [];
    for (const api of ["create", "submit"] as const) {
      for (const concurrency of CONCURRENCIES) runs.push(await runManager(api, n, concurrency, timeoutMs));
    }
    const overHttp: HttpRun = await runOverHttp(n, HTTP_CONCURRENCY, HTTP_CLIENT_CONCURRENCY, timeoutMs);

    const rows: Row[] = [
      {
        what: "bare bun:sqlite, 3 tx/task",
        tasks: n,
        "wall ms": raw.ms,
        "tasks/s": raw.tasksPerSec,
        "vs bare": 1,
        "FINISHED in db": "-",
        "CPU %": "-",
        "store ms/task": round(raw.ms / n, 3),
      },
      {
        what: "kiln store only, 3 tx/task",
        tasks: storeOnly.tasks,
        "wall ms": storeOnly.ms,
        "tasks/s": storeOnly.tasksPerSec,
        "vs bare": round(storeOnly.tasksPerSec / raw.tasksPerSec, 3),
        "FINISHED in db": "-",
        "CPU %": "-",
        "store ms/task": round(storeOnly.ms / storeOnly.tasks, 3),
      },
      ...runs.map((r) => ({
        what: `kiln manager, ${r.api}(), concurrency ${r.concurrency}${r.timedOut ? " (TIMED OUT)" : ""}`,
        tasks: r.finished,
        "wall ms": r.totalMs,
        "tasks/s": r.tasksPerSec,
        "vs bare": round(r.tasksPerSec / raw.tasksPerSec, 3),
        "FINISHED in db": `${r.finishedInDb} (${r.finishedInDb - r.warmupTasks} + ${r.warmupTasks} warm-up)`,
        "CPU %": r.cpuPercent,
        "store ms/task": round(r.storeMs / Math.max(1, r.finished), 3),
      })),
      {
        what: `kiln over HTTP, concurrency ${overHttp.concurrency}${overHttp.timedOut ? " (TIMED OUT)" : ""}`,
        tasks: overHttp.finished,
        "wall ms": overHttp.totalMs,
        "tasks/s": overHttp.tasksPerSec,
        "vs bare": round(overHttp.tasksPerSec / raw.tasksPerSec, 3),
        "FINISHED in db": `${overHttp.finishedInDb} (${overHttp.finishedInDb - overHttp.warmupTasks} + ${overHttp.warmupTasks} warm-up)`,
        "CPU %": overHttp.serverCpuPercent,
        "store ms/task": round(overHttp.storeMs / Math.max(1, overHttp.finished), 3),
      },
    ];
    const breakdown: Row[] = runs.map((r) => {
      const row: Row = { run: `${r.api}(), c=${r.concurrency}`, "create phase ms": r.createMs };
      row["store share of wall"] = `${round(r.storeShare * 100, 1)}%`;
      for (const [method, { calls, ms }] of Object.entries(r.storeByMethod)) {
        row[method] = `${calls} calls, ${ms} ms`;
      }
      return row;
    });
    const httpBreakdown: Row = {
      run: `HTTP, c=${overHttp.concurrency}`,
      "create phase ms": overHttp.postMs,
    };
    httpBreakdown["store share of wall"] = `${round((overHttp.storeMs / overHttp.totalMs) * 100, 1)}%`;
    for (const [method, { calls, ms }] of Object.entries(overHttp.storeByMethod)) {
      httpBreakdown[method] = `${calls} calls, ${ms} ms`;
    }
    breakdown.push(httpBreakdown);
    const notes = [
      `N = ${n} no-op tasks per run, created in chunks of ${CREATE_CHUNK} with a yield to the event loop between chunks; wall = first create → last FINISHED event.`,
      "Each manager run starts on a fresh SQLite file after 2×concurrency warm-up tasks; every transition is durable before anyone hears of it (WAL, synchronous=NORMAL): each create() is its own commit, the submit() calls of one chunk share one (each resolves after it; the chunk's promises are awaited before the yield), and the run ends and next starts that arrive in one event-loop turn share one.",
      `Machine has ${navigator.hardwareConcurrency} logical CPUs; CPU % is process CPU time (all threads) over wall time.`,
      `Baselines (no workers, no manager): 'bare bun:sqlite' runs the same 3 transactions (row + history event each) on kiln's own schema with plain prepared statements; 'kiln store only' calls SqliteSyncStore.createTask + 2 × transition directly (at most ${STORE_BASELINE_MAX} tasks; it is a rate). Both after ${BASELINE_WARMUP} untimed tasks.`,
      "'store ms/task' for manager runs = time the engine spent inside store calls (main thread) per task.",
      `Over HTTP: a server in a child process (bench/http-server.ts, concurrency ${overHttp.concurrency}, store calls timed) and a client here keeping ${overHttp.clientConcurrency} POST /tasks in flight until ${n} were answered; wall = first POST → the server's last FINISHED transition. POSTs took ${overHttp.postMs} ms (p50 ${overHttp.post.latencyMs.median} ms, p99 ${overHttp.post.latencyMs.p99} ms, ${overHttp.post.errors} errors); CPU % is the server's; client CPU ${overHttp.clientCpuPercent}%, other processes ${overHttp.otherCpuPercent ?? "-"}%.`,
    ];
    if (runs.some((r) => r.timedOut) || overHttp.timedOut)
      notes.push("A run timed out: its tasks/s counts only the tasks that finished.");
    const bestOf = (api: CreateApi) =>
      runs.filter((r) => r.api === api).reduce((a, b) => (b.tasksPerSec > a.tasksPerSec ? b : a));
    const best = bestOf("submit");
    const bestCreate = bestOf("create");
    return {
      name: "throughput",
      headlines: [
        {
          what: "N no-op tasks to FINISHED: TaskManager submit() / create() (best concurrency) / over HTTP",
          aim: "-",
          measured: `${best.tasksPerSec} (c=${best.concurrency}) / ${bestCreate.tasksPerSec} (c=${bestCreate.concurrency}) / ${overHttp.tasksPerSec} tasks/s`,
          met: null,
        },
      ],
      tables: [
        { title: "throughput: no-op tasks to FINISHED", rows },
        {
          title: "throughput: where the main thread's store time goes (manager and HTTP runs)",
          rows: breakdown,
        },
      ],
      figures: { n, rawSqlite: raw, kilnStoreOnly: storeOnly, manager: runs, overHttp },
      notes,
    };
  },
};
