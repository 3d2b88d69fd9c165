// Scenario "memory": RSS of a process running kiln idle, with more idle workers, and with paused
// tasks. Each configuration is measured in a child process of its own (`--probe`), so memory one
// configuration freed but the allocator kept does not blur the next.

import { silentLogger, TaskManager } from "../src/index.ts";
import { runBunChild } from "./child-run.ts";
import {
  type BenchOptions,
  median,
  mib,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
  TASKS_URL,
  tempDir,
} from "./util.ts";

interface ProbeConfig {
  label: string;
  /** "bare": Bun with kiln imported and no manager. */
  kind: "bare" | "idle" | "paused";
  concurrency: number;
  paused: number;
  maxParkedWorkers: number;
}

interface ProbeResult {
  rss: number;
  heapUsed: number;
  workers: number;
  parked: number;
  pausedInDb: number;
}

const PROBE_TIMEOUT_MS = 60_000;
const PAUSED_TASKS = 20;

async function settleAndSample(): Promise<{ rss: number; heapUsed: number }> {
  Bun.gc(true);
  await Bun.sleep(500);
  Bun.gc(true);
  await Bun.sleep(100);
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 5; i++) {
    const usage = process.memoryUsage();
    rss.push(usage.rss);
    heap.push(usage.heapUsed);
    await Bun.sleep(100);
  }
  return { rss: median(rss), heapUsed: median(heap) };
}

/** Runs in the child process: sets up one configuration and reports its memory. */
async function probe(config: ProbeConfig): Promise<ProbeResult> {
  if (config.kind === "bare") {
    const sample = await settleAndSample();
    return { ...sample, workers: 0, parked: 0, pausedInDb: 0 };
  }
  const tmp = tempDir("memory");
  const manager = new TaskManager({
    db: tmp.db,
    concurrency: config.concurrency,
    maxParkedWorkers: config.maxParkedWorkers,
    logger: silentLogger,
  });
  try {
    await manager.load(TASKS_URL);
    await manager.start();
    // Warm-up: one no-op task per worker, so each has imported the task module.
    const warm = await Promise.all(
      Array.from(
        { length: config.concurrency },
        async () => (await manager.create("bench-noop", null)).task.id,
      ),
    );
    for (const id of warm) await manager.waitFor(id, (t) => t.status === "FINISHED", 30_000);
    if (config.kind === "paused") {
      for (let i = 0; i < config.paused; i++) {
        const { task } = await manager.create("bench-idle", null);
        await manager.waitFor(task.id, (t) => t.status === "RUNNING", 30_000);
        await Bun.sleep(5);
        await manager.pause(task.id);
        await manager.waitFor(task.id, (t) => t.status === "PAUSED", 30_000);
      }
    }
    const sample = await settleAndSample();
    const stats = manager.stats();
    return {
      ...sample,
      workers: stats.workers,
      parked: stats.parked,
      pausedInDb: (await manager.store.countByStatus()).PAUSED,
    };
  } finally {
    await manager.shutdown();
    tmp.cleanup();
  }
}

async function runProbe(config: ProbeConfig): Promise<ProbeResult> {
  const { code, err, lastLine } = await runBunChild(
    [import.meta.path, "--probe", JSON.stringify(config)],
    PROBE_TIMEOUT_MS,
  );
  if (code !== 0 || !lastLine)
    throw new Error(`memory probe "${config.label}" failed (exit ${code}): ${err.trim()}`);
  return JSON.parse(lastLine) as ProbeResult;
}

function medianResult(results: ProbeResult[]): ProbeResult {
  const pick = (f: (r: ProbeResult) => number) => median(results.map(f));
  return {
    rss: pick((r) => r.rss),
    heapUsed: pick((r) => r.heapUsed),
    workers: pick((r) => r.workers),
    parked: pick((r) => r.parked),
    pausedInDb: pick((r) => r.pausedInDb),
  };
}

const CONFIGS: ProbeConfig[] = [
  { label: "bun + kiln imported, no manager", kind: "bare", concurrency: 0, paused: 0, maxParkedWorkers: 0 },
  { label: "manager idle, concurrency 2", kind: "idle", concurrency: 2, paused: 0, maxParkedWorkers: 16 },
  { label: "manager idle, concurrency 10", kind: "idle", concurrency: 10, paused: 0, maxParkedWorkers: 16 },
  {
    label: `concurrency 2 + ${PAUSED_TASKS} paused, parked on workers`,
    kind: "paused",
    concurrency: 2,
    paused: PAUSED_TASKS,
    maxParkedWorkers: 64,
  },
  {
    label: `concurrency 2 + ${PAUSED_TASKS} paused, maxParkedWorkers 0`,
    kind: "paused",
    concurrency: 2,
    paused: PAUSED_TASKS,
    maxParkedWorkers: 0,
  },
];

export const memory: Scenario = {
  name: "memory",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const repetitions = options.quick ? 1 : 3;
    const results = new Map<string, { config: ProbeConfig; samples: ProbeResult[]; result: ProbeResult }>();
    for (const config of CONFIGS) {
      const samples: ProbeResult[] = [];
      for (let i = 0; i < repetitions; i++) samples.push(await runProbe(config));
      results.set(config.label, { config, samples, result: medianResult(samples) });
    }
    const reference = results.get(CONFIGS[1]?.label ?? "")?.result;
    if (!reference) throw new Error("the reference probe is missing");

    const rows: Row[] = [];
    const derived: Record<string, number> = {};
    for (const { config, result } of results.values()) {
      const delta = result.rss - reference.rss;
      let perUnit = "-";
      if (config.kind === "idle" && result.workers > reference.workers) {
        const perWorker = delta / (result.workers - reference.workers);
        derived.rssPerIdleWorkerMiB = mib(perWorker);
        perUnit = `${mib(perWorker)} MiB / extra idle worker`;
      } else if (config.kind === "paused") {
        const perTask = delta / config.paused;
        const key = config.maxParkedWorkers > 0 ? "rssPerParkedPausedTaskMiB" : "rssPerReleasedPausedTaskMiB";
        derived[key] = mib(perTask);
        perUnit = `${mib(perTask)} MiB / paused task`;
        if (result.workers > reference.workers) {
          perUnit += ` (${mib(delta / (result.workers - reference.workers))} / extra worker)`;
        }
      }
      rows.push({
        configuration: config.label,
        workers: result.workers,
        parked: result.parked,
        "PAUSED in db": config.kind === "paused" ? result.pausedInDb : "-",
        "RSS MiB": mib(result.rss),
        "main heap MiB": mib(result.heapUsed),
        "Δ RSS vs idle c=2 MiB": config.kind === "bare" ? "-" : mib(delta),
        "per unit": perUnit,
      });
    }
    const spread = [...results.values()].map(({ config, samples }) => {
      const rss = samples.map((s) => s.rss);
      return {
        label: config.label,
        rssMiB: rss.map(mib),
        spreadMiB: mib(Math.max(...rss) - Math.min(...rss)),
      };
    });
    return {
      name: "memory",
      headlines: [
        {
          what: "RSS per idle worker / per paused task (parked, released)",
          aim: "-",
          measured: `${derived.rssPerIdleWorkerMiB ?? "-"} / ${derived.rssPerParkedPausedTaskMiB ?? "-"}, ${derived.rssPerReleasedPausedTaskMiB ?? "-"} MiB`,
          met: null,
        },
      ],
      tables: [{ title: `memory (median of ${repetitions} child process(es) per configuration)`, rows }],
      figures: {
        repetitions,
        pausedTasks: PAUSED_TASKS,
        configurations: [...results.values()].map(({ config, result }) => ({
          ...config,
          rssBytes: result.rss,
          rssMiB: mib(result.rss),
          heapUsedMiB: mib(result.heapUsed),
          workers: result.workers,
          parked: result.parked,
          pausedInDb: result.pausedInDb,
        })),
        derived,
        spread,
      },
      notes: [
        "RSS is process.memoryUsage().rss after Bun.gc(true) (main thread only: workers collect on their own schedule) and a 600 ms settle; median of 5 samples 100 ms apart.",
        "RSS deltas are approximate: allocators keep freed pages, and worker heaps are not collected on demand.",
        `Paused tasks run bench-idle (checkpoint, then sleep 20 ms); each is paused once RUNNING. Parked: each keeps its worker (maxParkedWorkers 64); maxParkedWorkers 0: the worker is given back.`,
        `RSS spread between repetitions (MiB): ${spread.map((s) => `${s.label}: ${s.spreadMiB}`).join("; ")}.`,
        `Per-unit figures: per extra idle worker = Δ / Δworkers; per paused task = Δ / ${PAUSED_TASKS}.`,
        `Derived: ${Object.entries(derived)
          .map(([k, v]) => `${k} = ${round(v, 1)}`)
          .join(", ")}.`,
      ],
    };
  },
};

if (import.meta.main) {
  const index = process.argv.indexOf("--probe");
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  if (!raw) {
    console.error("usage: bun bench/memory.ts --probe '<config json>' (run it through bench/run.ts)");
    process.exit(2);
  }
  const result = await probe(JSON.parse(raw) as ProbeConfig);
  console.log(JSON.stringify(result));
  process.exit(0);
}
