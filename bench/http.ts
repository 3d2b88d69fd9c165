// Scenario "http": kiln's REST API under a fixed number of in-flight requests — POST /tasks and
// GET /tasks/:id — next to a bare Elysia app with the same two routes; then GET /tasks/:id and
// /health one at a time with idle vs. CPU-saturated workers, through this process's fetch() and
// through wrk; plus the compiled binary's size, start-up time and idle RSS. Each server runs in
// a child process (bench/http-server.ts, bench/bare-elysia-server.ts) so the load generator here
// does not share its event loop; on a small machine they still share the CPU cores, which the
// CPU figures show.

import { TASK_WORKER_NICENESS } from "../src/worker/thread-priority.ts";
import type { CpuSplit } from "./cpu-split.ts";
import { HOST, type LoadFigures, loadRow, randomTaskOf, Server } from "./http-client.ts";
import { CLIENT_CONCURRENCY, rateText, ratioText, throughputRounds } from "./http-rounds.ts";
import { type WrkPostRounds, wrkPostRounds } from "./http-wrk-rounds.ts";
import { lagText } from "./lag-monitor.ts";
import {
  measureResponsiveness,
  measureWrkControl,
  responsivenessRows,
  wrkControlRows,
  wrkRows,
} from "./responsiveness.ts";
import { measureStartup, startupRows } from "./startup.ts";
import {
  type BenchOptions,
  type Headline,
  median,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
} from "./util.ts";
import { wrkMissing } from "./wrk.ts";

/** Workers of the server under test: kiln's default on this 2-core machine; the loaded phases saturate all of them. */
const SERVER_CONCURRENCY = 2;
const BARE_SCRIPT = Bun.fileURLToPath(new URL("./bare-elysia-server.ts", import.meta.url));

export const http: Scenario = {
  name: "http",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const phases = options.quick
      ? { rounds: 2, ms: 500, firstWarmupMs: 300, warmupMs: 200 }
      : { rounds: 5, ms: 1_500, firstWarmupMs: 1_500, warmupMs: 300 };
    const latencyMs = options.quick ? 500 : 2_500;
    const latencyWarmupMs = options.quick ? 200 : 500;
    const wrkSeconds = options.quick ? 1 : 5;
    const launches = options.quick ? 2 : 5;

    const wrkPost = { rounds: options.quick ? 1 : 5, seconds: options.quick ? 1 : 3 };
    const measured = await Server.with({ concurrency: SERVER_CONCURRENCY }, async (server) => {
      const { throughput, postByWrk } = await Server.with(
        { concurrency: 1, script: BARE_SCRIPT },
        async (bare) => {
          const throughput = await throughputRounds(server, bare, phases);
          const missing = wrkMissing();
          const postByWrk: WrkPostRounds | { skipped: string } = missing
            ? { skipped: missing }
            : await wrkPostRounds(server, bare, wrkPost.rounds, wrkPost.seconds);
          return { throughput, postByWrk };
        },
      );
      const { ids } = throughput;
      const randomTask = randomTaskOf(ids);
      const responsiveness = await measureResponsiveness(
        server,
        SERVER_CONCURRENCY,
        [
          { label: "GET /tasks/:id", next: randomTask, wrkPath: `/tasks/${ids[0]}` },
          { label: "/health", next: () => ({ path: "/health" }), wrkPath: "/health" },
        ],
        latencyWarmupMs,
        latencyMs,
        wrkSeconds,
      );
      return { throughput, postByWrk, responsiveness };
    });
    const { throughput, postByWrk, responsiveness } = measured;
    const wrkControl = await Server.with({ concurrency: 1, script: BARE_SCRIPT }, (bare) =>
      measureWrkControl(bare, "/tasks/control", SERVER_CONCURRENCY, wrkSeconds),
    );
    const { rounds } = throughput;
    const startup = await measureStartup(launches);

    const kilnCreates = rounds.map((r) => r.kilnCreate);
    const kilnReads = rounds.map((r) => r.kilnRead);
    const bareCreates = rounds.map((r) => r.bareCreate);
    const bareReads = rounds.map((r) => r.bareRead);
    const phaseFigures = rounds.flatMap((r) => [r.kilnCreate, r.bareCreate, r.kilnRead, r.bareRead]);
    const { postRatio: postShare, getRatio: getShare, finishedPerSecDuringPost } = throughput;
    const finishedDuringPost = rounds.reduce((sum, r) => sum + r.finishedDuringPost, 0);
    /** The phase of those whose server event loop lagged the most. */
    const worstLag = (figures: LoadFigures[]) =>
      [...figures].sort((a, b) => (b.lag?.maxMs ?? 0) - (a.lag?.maxMs ?? 0))[0];
    const probes = Object.values(responsiveness.probes);
    const loadFigures: LoadFigures[] = [...phaseFigures, ...probes.flatMap((p) => [p.idle, p.loaded])];
    const errors = loadFigures.filter((f) => f.errors > 0);
    const getRatio = responsiveness.probes["GET /tasks/:id"]?.ratio;
    const healthRatio = responsiveness.probes["/health"]?.ratio;
    const wrk = "skipped" in responsiveness.wrk ? undefined : responsiveness.wrk.probes;
    const wrkGet = wrk?.["GET /tasks/:id"]?.p99Ratio;
    const wrkHealth = wrk?.["/health"]?.p99Ratio;
    const notes = [
      `The kiln server (TaskManager with the bench tasks, concurrency ${SERVER_CONCURRENCY}, fresh SQLite file, + createKilnApp) and the bare Elysia app (the same two routes answering a task's JSON, nothing behind them) each run in a child process on ${HOST}; this process generates the load with fetch() over keep-alive connections. They share the machine's ${navigator.hardwareConcurrency} logical CPUs, not an event loop: 'server CPU %' (child, all threads) and 'client CPU %' (this process) are CPU time over wall time, 100 = one core; 'other CPU %' is the rest of the machine's busy time (/proc/stat), i.e. other processes competing for the same cores; 'server event loop' is the server's main-thread lag during the phase (a 5 ms timer in it).`,
      `Throughput phases: a closed loop of ${CLIENT_CONCURRENCY} requests in flight for ${phases.ms} ms after ${phases.warmupMs} ms unrecorded (${phases.firstWarmupMs} ms in the first round); latency = fetch() call → end of the response body. Errors = any status other than the expected one (201 / 200) or a network error${
        errors.length > 0
          ? `: ${JSON.stringify(Object.fromEntries(errors.map((f) => [f.path, f.errorKinds])))}`
          : ""
      }.`,
      `Both servers are up at once, and the throughput phases run in ${phases.rounds} rounds, kiln first in odd rounds and the bare app first in even ones: each round POST /tasks on both, then GET /tasks/:id on both. The ratios are per round; the aims are judged on their median. POST /tasks created durable bench-noop tasks that ran on kiln's workers meanwhile: ${rounds.map((r) => r.finishedPerSecDuringPost).join(", ")} tasks/s finished while it was recorded, round by round (against ${kilnCreates.map((f) => f.requestsPerSec).join(", ")} created/s); after each, kiln's backlog drained before anything else was measured (${rounds.map((r) => r.drainMs).join(", ")} ms). GET /tasks/:id read random ones of the ${throughput.ids.length} ids created so far, ${splitText(throughput.readSplit)}.`,
      "skipped" in postByWrk
        ? `POST /tasks through wrk: ${postByWrk.skipped}.`
        : `POST /tasks through wrk (-t1 -c${CLIENT_CONCURRENCY}, the same JSON body): ${wrkPost.rounds} round${wrkPost.rounds === 1 ? "" : "s"} of ${wrkPost.seconds} s on each server after 1 s unrecorded on each, kiln first in odd rounds, kiln's backlog drained after each of its runs (${postByWrk.rounds.map((r) => r.drainMs).join(", ")} ms). The fetch() client here spends more CPU a request than the bare app does, so on a small machine it sets the bare figure of the rounds above; wrk leaves the bare app the cores to reach its own, and the ratio against it is the stricter one. kiln finished ${postByWrk.rounds.map((r) => r.finishedPerSec).join(", ")} tasks/s while wrk ran against it.`,
      `Responsiveness: each probe one request at a time, idle and then with ${responsiveness.spinningTasks} bench-tick {mode: "busy"} tasks (1 ms spins between checkpoints) on all ${SERVER_CONCURRENCY} workers; they were still RUNNING afterwards and were then stopped. fetch(): ${latencyMs} ms per probe after ${latencyWarmupMs} ms unrecorded, random ids. wrk: -t1 -c1 for ${wrkSeconds} s per probe on one task's path. The wrk control: the same wrk run on the bare Elysia app's GET /tasks/:id, idle and then with ${SERVER_CONCURRENCY} threads of its own spinning at the priority kiln gives its task workers (nice ${TASK_WORKER_NICENESS} above the main thread), after kiln's server has exited: what the kernel's scheduler alone makes of the p99 of a server whose cores lower-priority threads hold. ${
        "skipped" in responsiveness.wrk ? `wrk ${responsiveness.wrk.skipped}.` : ""
      }`,
      `Start-up: median of ${launches} launches, each on a fresh temp db and a free port (default concurrency: ${Math.max(2, navigator.hardwareConcurrency)} workers, started at once), polled every ~2 ms until /health answers 200; idle RSS read from /proc 500 ms later; then SIGTERM.`,
    ];
    if (!("launches" in startup.binary)) notes.push(`dist/kiln: ${startup.binary.reason}`);

    const binary = "launches" in startup.binary ? startup.binary : undefined;
    const headlines: Headline[] = [
      {
        what: "POST /tasks req/s ÷ a bare Elysia handler on the same machine",
        aim: "≥ 0.4×",
        measured: `${rateText(kilnCreates)} ÷ ${rateText(bareCreates)} req/s, ${ratioText(
          postShare,
          rounds.map((r) => r.postRatio),
        )}`,
        met: postShare === null ? null : postShare >= 0.4,
      },
      {
        what: `the same with wrk as the client (${CLIENT_CONCURRENCY} connections), the bare app at its own ceiling`,
        aim: "≥ 0.4×",
        measured:
          "skipped" in postByWrk
            ? postByWrk.skipped
            : `${wrkRate(postByWrk, "kiln")} ÷ ${wrkRate(postByWrk, "bare")} req/s, ${ratioText(
                postByWrk.ratio,
                postByWrk.rounds.map((r) => r.ratio),
              )}`,
        met: "skipped" in postByWrk || postByWrk.ratio === null ? null : postByWrk.ratio >= 0.4,
      },
      {
        what: "GET /tasks/:id req/s ÷ a bare Elysia handler",
        aim: "≥ 0.5×",
        measured: `${rateText(kilnReads)} ÷ ${rateText(bareReads)} req/s, ${ratioText(
          getShare,
          rounds.map((r) => r.getRatio),
        )}`,
        met: getShare === null ? null : getShare >= 0.5,
      },
      {
        what: "API p99 with every worker CPU-bound ÷ idle, wrk: GET /tasks/:id, /health",
        aim: "≤ 1.5×",
        measured: wrk
          ? `× ${wrkGet === undefined ? "-" : round(wrkGet, 2)}, × ${wrkHealth === undefined ? "-" : round(wrkHealth, 2)}`
          : "skipped" in responsiveness.wrk
            ? responsiveness.wrk.skipped
            : "-",
        met: wrkGet !== undefined && wrkHealth !== undefined ? wrkGet <= 1.5 && wrkHealth <= 1.5 : null,
      },
      {
        what: `the same wrk probe on a bare Elysia app (GET /tasks/:id), ${SERVER_CONCURRENCY} threads spinning at the task workers' priority ÷ idle: the machine's own ratio`,
        aim: "-",
        measured: "skipped" in wrkControl ? wrkControl.skipped : `× ${round(wrkControl.p99Ratio, 2)}`,
        met: null,
      },
      {
        what: "the same through this process's fetch() client",
        aim: "-",
        measured: `× ${getRatio?.p99 ?? "-"}, × ${healthRatio?.p99 ?? "-"}`,
        met: null,
      },
      {
        what: "dist/kiln: size, exec → first 200, idle RSS",
        aim: "-",
        measured: binary
          ? `${binary.sizeMiB} MiB, ${binary.medianFirstHealthMs} ms, ${binary.medianIdleRssMiB ?? "-"} MiB`
          : "reason" in startup.binary
            ? startup.binary.reason
            : "-",
        met: null,
      },
    ];
    return {
      name: "http",
      headlines,
      tables: [
        {
          title: "http: requests against kiln and against a bare Elysia app, each in a child process",
          rows: phaseFigures.map(loadRow),
        },
        {
          title: `http: POST /tasks through wrk (-t1 -c${CLIENT_CONCURRENCY}), kiln and the bare Elysia app`,
          rows: "skipped" in postByWrk ? [] : wrkPostRows(postByWrk),
        },
        {
          title: `http: API latency through fetch(), idle vs. every worker CPU-bound (${SERVER_CONCURRENCY} workers)`,
          rows: responsivenessRows(responsiveness),
        },
        { title: "http: the same through wrk (an external load tool)", rows: wrkRows(responsiveness) },
        {
          title: `http: the wrk control, a bare Elysia app idle and with ${SERVER_CONCURRENCY} threads spinning at the task workers' priority (no kiln)`,
          rows: wrkControlRows(wrkControl, SERVER_CONCURRENCY),
        },
        { title: "http: start-up footprint", rows: startupRows(startup) },
      ],
      lag: [
        { where: "kiln server during POST /tasks (worst round)", lag: worstLag(kilnCreates)?.lag },
        { where: "kiln server during GET /tasks/:id (worst round)", lag: worstLag(kilnReads)?.lag },
      ].flatMap((entry) => (entry.lag ? [{ where: entry.where, lag: entry.lag }] : [])),
      figures: {
        host: HOST,
        serverConcurrency: SERVER_CONCURRENCY,
        clientConcurrency: CLIENT_CONCURRENCY,
        durationMs: phases.ms,
        warmupMs: phases.warmupMs,
        latencyDurationMs: latencyMs,
        rounds,
        finishedDuringPost,
        finishedPerSecDuringPost,
        recordedIds: throughput.ids.length,
        kilnOverBare: {
          post: postShare,
          get: getShare,
          postByRound: rounds.map((r) => r.postRatio),
          getByRound: rounds.map((r) => r.getRatio),
        },
        responsiveness,
        postByWrk,
        wrkControl,
        startup,
        serverLag: {
          post: lagText(worstLag(kilnCreates)?.lag ?? null),
          get: lagText(worstLag(kilnReads)?.lag ?? null),
        },
      },
      notes,
    };
  },
};

/** Where the GET /tasks/:id phases ran, for the notes. */
function splitText(split: CpuSplit | null): string {
  if (split === null) return "";
  return split.pinned
    ? `with this process (the load generator) on CPU ${split.client} and both servers on CPU ${split.servers} (no task runs then; bench/cpu-split.ts says why)`
    : `every process free to run on any CPU (not split: ${split.why})`;
}

/** Requests per second of one server over the wrk rounds: median and range. */
function wrkRate(rounds: WrkPostRounds, server: "kiln" | "bare"): string {
  const rates = rounds.rounds.map((r) => r[server].requestsPerSec);
  return `${round(median(rates), 0)} (${Math.min(...rates)}–${Math.max(...rates)})`;
}

function wrkPostRows(rounds: WrkPostRounds): Row[] {
  return rounds.rounds.map((r) => ({
    round: r.round,
    first: r.first,
    "kiln req/s": r.kiln.requestsPerSec,
    "kiln p99 ms": r.kiln.p99Ms,
    "kiln errors": r.kiln.errors,
    "bare req/s": r.bare.requestsPerSec,
    "bare p99 ms": r.bare.p99Ms,
    "bare errors": r.bare.errors,
    "kiln ÷ bare": r.ratio === null ? "-" : round(r.ratio, 3),
    "kiln finished/s meanwhile": r.finishedPerSec,
  }));
}
