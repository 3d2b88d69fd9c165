// One run of N no-op tasks through `submit()` at a given concurrency, on the engine of the kiln
// checkout at `root` (this one, or an older commit's), on a fresh SQLite file. Written against the
// API both engines share: every call is awaited, so it holds whether the engine answers at once
// (before the asynchronous store port) or with a promise.
// Usage: bun bench/port-cost-child.ts <root> <n> <concurrency>; prints one JSON line.
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadAverage, mainThreadCpuMs, round, tempDir, yieldToLoop } from "./util.ts";

const CREATE_CHUNK = 250;
/** What kind of thread a thread's name says it is, for the CPU breakdown. */
function threadKind(tid: string, name: string): string {
  if (tid === String(process.pid)) return "main";
  if (name === "Worker") return "workers";
  if (name.startsWith("JIT") || name.startsWith("JSC")) return "jit";
  if (name.startsWith("Heap") || name.startsWith("mi-")) return "gc+alloc";
  return "other";
}

/** CPU ms of every thread of this process, summed by `threadKind`; empty where /proc is not. */
function cpuByThreadKind(): Map<string, number> {
  const byKind = new Map<string, number>();
  const dir = `/proc/${process.pid}/task`;
  if (!existsSync(dir)) return byKind;
  for (const tid of readdirSync(dir)) {
    let stat: string;
    try {
      stat = readFileSync(`${dir}/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    const kind = threadKind(tid, name);
    byKind.set(kind, (byKind.get(kind) ?? 0) + ms);
  }
  return byKind;
}

interface Manager {
  load(url: URL): Promise<unknown>;
  start(): Promise<unknown>;
  submit(name: string, params: null): unknown;
  subscribe(listener: (event: { type: string; to?: string }) => void): () => void;
  shutdown(): Promise<unknown>;
}

const [root, nText, concurrencyText] = process.argv.slice(2);
if (!root || !nText || !concurrencyText) {
  console.error("usage: bun bench/port-cost-child.ts <kiln checkout> <n> <concurrency>");
  process.exit(2);
}
const n = Number(nText);
const concurrency = Number(concurrencyText);
const kiln = (await import(pathToFileURL(join(root, "src/index.ts")).href)) as {
  TaskManager: new (options: object) => Manager;
  silentLogger: object;
};
const tmp = tempDir("port-cost");
// A file migrated beforehand (by another checkout, say), so that both engines run on one schema.
const template = process.env.KILN_BENCH_TEMPLATE;
if (template) copyFileSync(template, tmp.db);
const manager = new kiln.TaskManager({ db: tmp.db, concurrency, logger: kiln.silentLogger });
let finished = 0;
let lastAt = 0;
let target = Number.POSITIVE_INFINITY;
let wake = () => {};
manager.subscribe((event) => {
  if (event.type !== "transition" || event.to !== "FINISHED") return;
  finished++;
  lastAt = performance.now();
  if (finished >= target) wake();
});
const until = (count: number) =>
  new Promise<boolean>((resolve) => {
    target = count;
    const timer = setTimeout(() => resolve(false), 120_000);
    wake = () => {
      clearTimeout(timer);
      resolve(true);
    };
    if (finished >= count) wake();
  });

async function submitAll(count: number): Promise<void> {
  let chunk: unknown[] = [];
  for (let i = 0; i < count; i++) {
    chunk.push(manager.submit("bench-noop", null));
    if ((i + 1) % CREATE_CHUNK === 0) {
      await Promise.all(chunk);
      chunk = [];
      await yieldToLoop();
    }
  }
  await Promise.all(chunk);
}

try {
  await manager.load(pathToFileURL(join(root, "bench/tasks.ts")));
  await manager.start();
  const warmup = 2 * concurrency;
  await submitAll(warmup);
  if (!(await until(warmup))) throw new Error("warm-up tasks did not finish within 120 s");
  finished = 0;
  Bun.gc(true);
  const load = loadAverage();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const threads0 = cpuByThreadKind();
  const t0 = performance.now();
  const done = until(n);
  await submitAll(n);
  const ok = await done;
  const ms = (ok ? lastAt : performance.now()) - t0;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuMs();
  // Threads that ended during the run (none is expected: workers are pooled) are not counted.
  const threads1 = cpuByThreadKind();
  const threadCpuUsPerTask = Object.fromEntries(
    [...threads1].map(([kind, ms]) => [
      kind,
      finished === 0 ? null : round(((ms - (threads0.get(kind) ?? 0)) * 1000) / finished, 1),
    ]),
  );
  console.log(
    JSON.stringify({
      tasksPerSec: round((finished / ms) * 1000, 0),
      ms: round(ms, 1),
      finished,
      timedOut: !ok,
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / ms) * 100, 0),
      mainThreadCpuUsPerTask:
        main0 === null || main1 === null || finished === 0
          ? null
          : round(((main1 - main0) * 1000) / finished, 1),
      threadCpuUsPerTask,
      loadAverage: load,
    }),
  );
} finally {
  await manager.shutdown();
  tmp.cleanup();
}
process.exit(0);
