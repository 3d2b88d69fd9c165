// Scenario "peers": the throughput workload (N no-op jobs enqueued and run to completion) on kiln
// and on the systems people would pick instead, each installed as a devDependency and run here,
// in the same invocation, each in a child process of its own (bench/peers/child.ts).
import { runBunChild } from "./child-run.ts";
import type { ChildRequest } from "./peers/child.ts";
import { ENQUEUE_CHUNK } from "./peers/drive.ts";
import type { PeerId } from "./peers/index.ts";
import type { ChildOutput, PeerResult } from "./peers/types.ts";
import { type BenchOptions, type Row, round, type Scenario, type ScenarioResult } from "./util.ts";

const CHILD_SCRIPT = Bun.fileURLToPath(new URL("./peers/child.ts", import.meta.url));
/** The same for every system: twice this machine's 2 cores is enough to keep each one's I/O overlapped. */
const CONCURRENCY = 4;
/** Extra time a child gets for start-up and teardown beyond its run's own limit. */
const CHILD_GRACE_MS = 60_000;

interface Entry {
  id: PeerId;
  /** A run that is stopped at a fixed time on purpose: its rate is over the jobs done by then. */
  capMs?: (quick: boolean) => number;
  /** Fewer jobs than N for a run that cannot finish them anyway. */
  n?: number;
}

// kiln runs first and last: on a shared machine, the two tell how much the conditions drifted.
const ENTRIES: Entry[] = [
  { id: "kiln" },
  { id: "plainjob" },
  { id: "bunqueue" },
  { id: "bunqueue-durable" },
  { id: "bullmq" },
  { id: "pg-boss" },
  // Unbatched, pg-boss waits its polling interval (at least 0.5 s) after every fetch.
  { id: "pg-boss-unbatched", n: 1_000, capMs: (quick) => (quick ? 3_000 : 10_000) },
  // kiln's synchronous create(), one commit per call: shown, not compared.
  { id: "kiln-create" },
  { id: "kiln" },
];

async function runChild(request: ChildRequest): Promise<ChildOutput> {
  const { code, out, err, lastLine } = await runBunChild(
    [CHILD_SCRIPT, JSON.stringify(request)],
    request.timeoutMs + CHILD_GRACE_MS,
  );
  if (code !== 0 || !lastLine?.startsWith("{")) {
    return { kind: "failed", label: request.peer, error: `exit ${code}: ${err.trim() || out.trim()}` };
  }
  return JSON.parse(lastLine) as ChildOutput;
}

const isKiln = (id: PeerId) => id === "kiln" || id === "kiln-create";

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

export const peers: Scenario = {
  name: "peers",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const n = options.quick ? 1_000 : 20_000;
    const timeoutMs = options.quick ? 20_000 : 90_000;
    const outputs: { entry: Entry; output: ChildOutput }[] = [];
    for (const entry of ENTRIES) {
      const cap = entry.capMs?.(options.quick);
      const output = await runChild({
        peer: entry.id,
        n: Math.min(n, entry.n ?? n),
        concurrency: CONCURRENCY,
        timeoutMs: cap ?? timeoutMs,
      });
      outputs.push({ entry, output });
    }
    const results = outputs.flatMap(({ entry, output }) =>
      output.kind === "result" ? [{ entry, result: output.result }] : [],
    );
    const kilnRuns = results
      .filter(({ entry }) => entry.id === "kiln")
      .map(({ result }) => result.jobsPerSec);
    const kilnRate = kilnRuns.length > 0 ? kilnRuns.reduce((a, b) => a + b, 0) / kilnRuns.length : null;
    const ratio = (r: PeerResult) =>
      kilnRate !== null && r.jobsPerSec > 0 ? round(kilnRate / r.jobsPerSec, 2) : null;
    let kilnSeen = 0;
    const label = (entry: Entry, r: PeerResult) => {
      if (entry.id === "kiln") return ++kilnSeen === 1 ? "kiln (first)" : "kiln (again, last)";
      if (entry.capMs) return `${r.label} (capped at ${round(entry.capMs(options.quick) / 1000, 1)} s)`;
      return r.timedOut ? `${r.label} (TIMED OUT)` : r.label;
    };

    const rows: Row[] = outputs.map(({ entry, output }) => {
      if (output.kind !== "result") {
        return {
          system: output.label,
          jobs: "-",
          "wall ms": "-",
          "jobs/s": "-",
          "kiln ÷ peer": "-",
          "completed in store": "-",
          "CPU % (process / machine)": "-",
          durability: `${output.kind.toUpperCase()}: ${firstLine(output.kind === "skipped" ? output.reason : output.error)}`,
        };
      }
      const r = output.result;
      return {
        system: label(entry, r),
        jobs: r.completed,
        "wall ms": r.ms,
        "jobs/s": r.jobsPerSec,
        "kiln ÷ peer": isKiln(entry.id) ? "-" : (ratio(r) ?? "-"),
        "completed in store": `${r.completedInStore} (${r.completedInStore - r.warmupJobs} + ${r.warmupJobs} warm-up)`,
        "CPU % (process / machine)": `${r.processCpuPercent} / ${r.machineCpuPercent ?? "-"}`,
        durability: `${r.durability.short}${r.durability.acknowledgedBeforeDisk ? " — ACKED BEFORE DISK" : ""}`,
      };
    });
    const distinct = results.filter(
      ({ entry }, i) => results.findIndex((x) => x.entry.id === entry.id) === i,
    );
    const durabilityRows: Row[] = distinct.map(({ result: r }) => ({
      system: r.label,
      version: r.version,
      "acked before disk": r.durability.acknowledgedBeforeDisk ? "YES" : "no",
      setting: r.durability.setting,
    }));
    const skipped = outputs.filter(({ output }) => output.kind !== "result");
    const syncCreate = results.find(({ entry }) => entry.id === "kiln-create")?.result;
    const notes = [
      `Workload, the same for every system: after ${2 * CONCURRENCY} warm-up jobs, N = ${n} no-op jobs (null payload, a handler that returns at once) enqueued one call each in chunks of ${ENQUEUE_CHUNK} with a yield to the event loop between chunks (an async API's calls of one chunk in flight together), processed meanwhile with concurrency ${CONCURRENCY}; wall = first enqueue → last completion the system reported after recording it. Each system runs in a fresh child process on a fresh temp SQLite file / Redis key prefix / PostgreSQL schema, removed afterwards.`,
      `Concurrency ${CONCURRENCY} means: ${distinct.map(({ result: r }) => `${r.label}: ${r.concurrencyNote}`).join("; ")}.`,
      `'kiln ÷ peer' = kiln's jobs/s over the peer's (> 1: kiln is faster), kiln's being the mean of its runs first and last (${kilnRuns.join(" and ")} jobs/s: their difference is how much the shared machine drifted meanwhile).`,
      `kiln enqueues with manager.submit(), which resolves after the commit that the creates of one event-loop turn share (group commit), as the async peers' calls of a chunk are in flight together. 'kiln, create()' is the synchronous create(), one commit per call${syncCreate ? ` (${syncCreate.jobsPerSec} jobs/s here)` : ""}: shown for reference, not in the ratios.`,
      "'kiln ÷ peer' is about the same workload, not the same guarantees: see the durability column. CPU % = CPU time over wall time, 100 = one core: this process (all threads) / the whole machine from /proc/stat, which includes the Redis or PostgreSQL server and anything else running.",
      "pg-boss completes a batch after its handler returns, with no event for it: its clock stops when its job table shows every job completed (polled every 5 ms on a separate connection). Unbatched (batchSize 1), each pg-boss worker waits its polling interval after every fetch, so that run is capped in time and its rate is over the jobs done by then.",
      `Durability as run: ${distinct.map(({ result: r }) => `${r.label}: ${r.durability.note}`).join("; ")}.`,
    ];
    for (const { output } of skipped) {
      if (output.kind === "skipped") notes.push(`${output.label} skipped: ${output.reason}`);
      else if (output.kind === "failed") notes.push(`${output.label} failed: ${firstLine(output.error)}`);
    }
    const durable = results.filter(
      ({ entry, result }) => !isKiln(entry.id) && !result.durability.acknowledgedBeforeDisk,
    );
    const fastest = durable.reduce<PeerResult | undefined>(
      (a, { result }) => (a === undefined || result.jobsPerSec > a.jobsPerSec ? result : a),
      undefined,
    );
    const acked = results.filter(({ result }) => result.durability.acknowledgedBeforeDisk);
    const kilnLabel = kilnRate === null ? "kiln -" : `kiln ${round(kilnRate, 0)} jobs/s`;
    return {
      name: "peers",
      headlines: [
        {
          what: "throughput vs. the fastest durable peer",
          aim: "ahead of every durable peer (kiln ÷ peer > 1)",
          measured: fastest
            ? `${kilnLabel} vs ${fastest.label} ${fastest.jobsPerSec} (× ${ratio(fastest)})`
            : "no durable peer ran",
          met: fastest ? durable.every(({ result }) => (ratio(result) ?? 0) > 1) : null,
        },
        {
          what: "throughput vs. peers that acknowledge before disk",
          aim: "-",
          measured:
            acked.length > 0
              ? acked.map(({ result }) => `${result.label} × ${ratio(result)}`).join(", ")
              : "none ran",
          met: null,
        },
      ],
      tables: [
        {
          title: `peers: ${n} no-op jobs to completion, concurrency ${CONCURRENCY}, same machine and run`,
          rows,
        },
        { title: "peers: what each figure's durability is", rows: durabilityRows },
      ],
      figures: {
        n,
        concurrency: CONCURRENCY,
        enqueueChunk: ENQUEUE_CHUNK,
        results: outputs.map(({ entry, output }) => ({
          id: entry.id,
          capMs: entry.capMs?.(options.quick) ?? null,
          ...output,
        })),
        kilnJobsPerSec: kilnRuns,
        kilnOverPeer: Object.fromEntries(
          results
            .filter(({ entry }) => !isKiln(entry.id))
            .map(({ entry, result }) => [entry.id, ratio(result)]),
        ),
      },
      notes,
    };
  },
};
