// Scenario "peers": the same workload (N no-op jobs enqueued and run to completion) on kiln and
// on the systems people would pick instead, each at its documented best, single enqueue against
// single enqueue and bulk against bulk; every (system, mode) pair runs once per round in a child
// process of its own, rounds interleaved with the order rotated; each system's durability is
// read from it while it runs, and it is compared only with systems that promise the same.
import { BULK_SIZE, ENQUEUE_CHUNK, WARMUP_JOBS } from "./peers/drive.ts";
import { isPeerId, KILN_IDS, PEER_IDS, type PeerId } from "./peers/index.ts";
import { comparisonTables, configurationRows, peerHeadlines, seriesOf } from "./peers/report.ts";
import { type RunSpec, runRounds } from "./peers/rounds.ts";
import type { BenchOptions, Scenario, ScenarioResult } from "./util.ts";

/** Rounds of a full run: every system runs this many times. */
export const DEFAULT_ROUNDS = 5;
/**
 * --quick checks that every kind of system runs to completion, not its speed: one configuration
 * per code path (kiln's durabilities, plainjob in worker processes with FULL, each peer once),
 * two children at a time.
 */
const QUICK_SYSTEMS: PeerId[] = [
  "kiln",
  "kiln-full",
  "plainjob",
  "plainjob-full-processes",
  "bunqueue",
  "bunqueue-durable",
  "bullmq",
  "pg-boss",
  "graphile-worker",
];
const QUICK_PARALLEL = 2;

function systems(options: BenchOptions): PeerId[] {
  if (!options.systems) return options.quick ? QUICK_SYSTEMS : PEER_IDS;
  const unknown = options.systems.filter((id) => !isPeerId(id));
  if (unknown.length > 0)
    throw new Error(`unknown system(s) ${unknown.join(", ")}; known: ${PEER_IDS.join(", ")}`);
  return options.systems.filter(isPeerId);
}

export const peers: Scenario = {
  name: "peers",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const n = options.quick ? 300 : 20_000;
    const rounds = options.rounds ?? (options.quick ? 1 : DEFAULT_ROUNDS);
    const timeoutMs = options.quick ? 30_000 : 120_000;
    const ids = systems(options);
    const specs: RunSpec[] = ids.flatMap((id) => [
      { id, mode: "single" as const },
      { id, mode: "bulk" as const },
    ]);
    const total = specs.length * rounds;
    let done = 0;
    const parallel = options.quick ? QUICK_PARALLEL : 1;
    const runs = await runRounds(specs, { rounds, n, timeoutMs, parallel }, (run) => {
      done++;
      const what =
        run.output.kind === "result"
          ? `${run.output.result.jobsPerSec.toLocaleString("en-US")} jobs/s`
          : `${run.output.kind}: ${(run.output.kind === "skipped" ? run.output.reason : run.output.error).split("\n", 1)[0]}`;
      console.error(
        `peers ${done}/${total} (round ${run.round + 1}/${rounds}): ${run.id} ${run.mode} — ${what}`,
      );
    });
    const series = seriesOf(runs);
    const notes = [
      `Workload, the same for every system: after ${WARMUP_JOBS} warm-up jobs, N = ${n.toLocaleString("en-US")} no-op jobs (null payload, a handler that returns at once) enqueued while the system processes them; wall = first enqueue → last completion the system recorded (for pg-boss and graphile-worker, which complete after their handler returns, until their job table shows every job done, polled every 5 ms on a connection of the benchmark's own). Single: one enqueue call per job, in chunks of ${ENQUEUE_CHUNK} with a yield to the event loop between chunks (an async API's calls of one chunk are in flight together; kiln's submit() calls of one turn share a commit). Bulk: the system's bulk call with ${BULK_SIZE.toLocaleString("en-US")} jobs each, one call after another.`,
      `Each run is a fresh child process on fresh state: a temp SQLite file, a new Redis key prefix (obliterated after), a new PostgreSQL database (created before, dropped after). ${rounds} round${rounds === 1 ? "" : "s"}: every system and mode runs once per round, the order rotated each round.`,
      "'jobs/s median' and 'min–max' are over the rounds; 'kiln … ÷ this' is kiln's jobs/s over the system's within each round, then the median (and range) of those per-round ratios (> 1: kiln is faster). 'kiln defaults' = a TaskManager with nothing but its db set; 'kiln best' = 8 worker threads. A table of a guarantee kiln does not give compares with kiln's default durability, for reference.",
      "Tables are split by what an acknowledged job survives, judged from each system's settings read while it ran (see the configurations table): SQLite synchronous FULL / PostgreSQL synchronous_commit on with fsync on / Redis appendfsync always → a power loss; SQLite NORMAL, PostgreSQL with fsync off, Redis AOF everysec → a process crash; a write buffer or Redis without AOF → nothing.",
      ...(options.quick
        ? [
            `--quick: ${ids.length} of the ${PEER_IDS.length} configurations (${PEER_IDS.filter((id) => !ids.includes(id)).join(", ") || "none"} left out), ${parallel} children at a time: it checks that each completes its jobs, and its figures compare nothing.`,
          ]
        : []),
      "'load avg before' is the machine's 1-minute load average just before each run (median); 'other CPU %' is the machine's busy CPU during the run minus the child's own (a Redis or PostgreSQL server, and plainjob's worker processes, count here), in % of one core; 'event loop' is the child's main thread lag in its worst run.",
    ];
    for (const s of series)
      for (const problem of new Set(s.problems)) notes.push(`${s.label} (${s.mode}): ${problem}`);
    const kilnSeries = series.filter((s) => KILN_IDS.includes(s.id));
    return {
      name: "peers",
      headlines: peerHeadlines(series),
      tables: [
        ...comparisonTables(series, n, rounds),
        {
          title: "peers: each system's configuration and durability as read while it ran",
          rows: configurationRows(series),
        },
      ],
      lag: kilnSeries.flatMap((s) => {
        const worst = [...s.byRound.values()].sort((a, b) => b.lag.maxMs - a.lag.maxMs)[0];
        return worst ? [{ where: `${s.label}, ${s.mode} (worst run)`, lag: worst.lag }] : [];
      }),
      figures: {
        n,
        rounds,
        bulkSize: BULK_SIZE,
        enqueueChunk: ENQUEUE_CHUNK,
        warmupJobs: WARMUP_JOBS,
        runs: runs.map((run) => ({
          id: run.id,
          mode: run.mode,
          round: run.round,
          position: run.position,
          ...run.output,
        })),
        medians: Object.fromEntries(series.map((s) => [`${s.id}/${s.mode}`, s.medianJobsPerSec])),
      },
      notes,
    };
  },
};
