// Scenario "http": kiln's REST API under a fixed number of in-flight requests — POST /tasks and
// GET /tasks/:id — next to a bare Elysia app with the same two routes; then GET /tasks/:id and
// /health one at a time with idle vs. CPU-saturated workers, through this process's fetch() and
// through wrk; plus the compiled binary's size, start-up time and idle RSS. Each server runs in
// a child process (bench/http-server.ts, bench/bare-elysia-server.ts) so the load generator here
// does not share its event loop; on a small machine they still share the CPU cores, which the
// CPU figures show.
import {
  HOST,
  type LoadFigures,
  type LoadOptions,
  load,
  loadRow,
  postJson,
  Server,
  type TaskBody,
  waitForUsage,
} from "./http-client.ts";
import { lagText } from "./lag-monitor.ts";
import { measureResponsiveness, responsivenessRows, wrkRows } from "./responsiveness.ts";
import { measureStartup, startupRows } from "./startup.ts";
import { type BenchOptions, type Headline, round, type Scenario, type ScenarioResult } from "./util.ts";

/** Workers of the server under test: kiln's default on this 2-core machine; the loaded phases saturate all of them. */
const SERVER_CONCURRENCY = 2;
/** Requests kept in flight by the load generator during the throughput phases. */
const CLIENT_CONCURRENCY = 16;
const DRAIN_TIMEOUT_MS = 120_000;
const BARE_SCRIPT = Bun.fileURLToPath(new URL("./bare-elysia-server.ts", import.meta.url));

interface Phases {
  warmupMs: number;
  ms: number;
}

type Throughput = Pick<
  LoadOptions,
  "label" | "next" | "expect" | "onBody" | "onRecordingStart" | "onRecordingEnd"
>;

const closedLoop = (target: Server, phases: Phases, options: Throughput) =>
  load(target, { concurrency: CLIENT_CONCURRENCY, ...phases, ...options });

/** POST /tasks and GET /tasks/:id on the bare Elysia app, the same way as on kiln. */
async function bareElysia(phases: Phases) {
  return Server.with({ concurrency: 1, script: BARE_SCRIPT }, async (bare) => {
    const create = await closedLoop(bare, phases, {
      label: "bare Elysia: POST /tasks",
      next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
      expect: 201,
    });
    const read = await closedLoop(bare, phases, {
      label: "bare Elysia: GET /tasks/:id",
      next: () => ({ path: `/tasks/${Bun.randomUUIDv7()}` }),
      expect: 200,
    });
    return { create, read };
  });
}

/** kiln's requests per second ÷ bare Elysia's, unrounded: an aim is judged on this, not on what is shown. */
const share = (kiln: LoadFigures, bare: LoadFigures) =>
  bare.requestsPerSec > 0 ? kiln.requestsPerSec / bare.requestsPerSec : null;
const shown = (ratio: number | null) => (ratio === null ? "-" : String(round(ratio, 3)));

export const http: Scenario = {
  name: "http",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const phases = { ms: options.quick ? 1_000 : 5_000, warmupMs: options.quick ? 300 : 1_000 };
    const latencyMs = options.quick ? 500 : 2_500;
    const latencyWarmupMs = options.quick ? 200 : 500;
    const wrkSeconds = options.quick ? 1 : 5;
    const launches = options.quick ? 2 : 5;

    const ids: string[] = [];
    const measured = await Server.with({ concurrency: SERVER_CONCURRENCY }, async (server) => {
      let finishedAtStart = 0;
      let finishedAtEnd = 0;
      const create = await closedLoop(server, phases, {
        label: "POST /tasks (bench-noop)",
        next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
        expect: 201,
        onBody: (body) => ids.push((JSON.parse(body) as TaskBody).id),
        onRecordingStart: async () => {
          finishedAtStart = (await server.usage()).finishedEvents;
        },
        onRecordingEnd: async () => {
          finishedAtEnd = (await server.usage()).finishedEvents;
        },
      });
      const finishedDuringPost = finishedAtEnd - finishedAtStart;
      const t0 = performance.now();
      await waitForUsage(
        server,
        (u) => u.queued === 0 && u.running === 0,
        DRAIN_TIMEOUT_MS,
        "the POST /tasks backlog to drain",
        50,
      );
      const drained = { ms: round(performance.now() - t0, 0), finished: (await server.usage(true)).finished };
      if (ids.length === 0) throw new Error("POST /tasks created no task");
      const randomTask = () => ({ path: `/tasks/${ids[Math.floor(Math.random() * ids.length)]}` });
      const read = await closedLoop(server, phases, {
        label: "GET /tasks/:id",
        next: randomTask,
        expect: 200,
      });
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
      return { create, finishedDuringPost, drained, read, responsiveness };
    });
    const { create, finishedDuringPost, drained, read, responsiveness } = measured;
    const bare = await bareElysia(phases);
    const startup = await measureStartup(launches);

    const finishedPerSecDuringPost = round((finishedDuringPost / create.ms) * 1000, 0);
    const postShare = share(create, bare.create);
    const getShare = share(read, bare.read);
    const probes = Object.values(responsiveness.probes);
    const loadFigures: LoadFigures[] = [
      create,
      read,
      bare.create,
      bare.read,
      ...probes.flatMap((p) => [p.idle, p.loaded]),
    ];
    const errors = loadFigures.filter((f) => f.errors > 0);
    const getRatio = responsiveness.probes["GET /tasks/:id"]?.ratio;
    const healthRatio = responsiveness.probes["/health"]?.ratio;
    const wrk = "skipped" in responsiveness.wrk ? undefined : responsiveness.wrk.probes;
    const wrkGet = wrk?.["GET /tasks/:id"]?.p99Ratio;
    const wrkHealth = wrk?.["/health"]?.p99Ratio;
    const notes = [
      `The kiln server (TaskManager with the bench tasks, concurrency ${SERVER_CONCURRENCY}, fresh SQLite file, + createKilnApp) and the bare Elysia app (the same two routes answering a task's JSON, nothing behind them) each run in a child process on ${HOST}; this process generates the load with fetch() over keep-alive connections. They share the machine's ${navigator.hardwareConcurrency} logical CPUs, not an event loop: 'server CPU %' (child, all threads) and 'client CPU %' (this process) are CPU time over wall time, 100 = one core; 'other CPU %' is the rest of the machine's busy time (/proc/stat), i.e. other processes competing for the same cores; 'server event loop' is the server's main-thread lag during the phase (a 5 ms timer in it).`,
      `Throughput phases: a closed loop of ${CLIENT_CONCURRENCY} requests in flight for ${phases.ms} ms after ${phases.warmupMs} ms unrecorded; latency = fetch() call → end of the response body. Errors = any status other than the expected one (201 / 200) or a network error${
        errors.length > 0
          ? `: ${JSON.stringify(Object.fromEntries(errors.map((f) => [f.path, f.errorKinds])))}`
          : ""
      }.`,
      `POST /tasks created durable bench-noop tasks that ran on the server's workers meanwhile: ${finishedDuringPost} finished during the ${round(create.ms / 1000, 1)} s recorded (${finishedPerSecDuringPost} tasks/s, against ${create.requestsPerSec} created/s); the backlog then took ${drained.ms} ms to drain (${drained.finished} FINISHED in the db, warm-up included). GET /tasks/:id then read random ones of the ${ids.length} recorded ids. kiln ÷ bare Elysia: POST /tasks × ${shown(postShare)}, GET /tasks/:id × ${shown(getShare)}.`,
      `Responsiveness: each probe one request at a time, idle and then with ${responsiveness.spinningTasks} bench-tick {mode: "busy"} tasks (1 ms spins between checkpoints) on all ${SERVER_CONCURRENCY} workers; they were still RUNNING afterwards and were then stopped. fetch(): ${latencyMs} ms per probe after ${latencyWarmupMs} ms unrecorded, random ids. wrk: -t1 -c1 for ${wrkSeconds} s per probe on one task's path. ${
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
        measured: `${create.requestsPerSec} ÷ ${bare.create.requestsPerSec} = × ${shown(postShare)}`,
        met: postShare === null ? null : postShare >= 0.4,
      },
      {
        what: "GET /tasks/:id req/s ÷ a bare Elysia handler",
        aim: "≥ 0.5×",
        measured: `${read.requestsPerSec} ÷ ${bare.read.requestsPerSec} = × ${shown(getShare)}`,
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
          rows: [create, read, bare.create, bare.read].map(loadRow),
        },
        {
          title: `http: API latency through fetch(), idle vs. every worker CPU-bound (${SERVER_CONCURRENCY} workers)`,
          rows: responsivenessRows(responsiveness),
        },
        { title: "http: the same through wrk (an external load tool)", rows: wrkRows(responsiveness) },
        { title: "http: start-up footprint", rows: startupRows(startup) },
      ],
      lag: [
        { where: "kiln server during POST /tasks", lag: create.lag },
        { where: "kiln server during GET /tasks/:id", lag: read.lag },
      ].flatMap((entry) => (entry.lag ? [{ where: entry.where, lag: entry.lag }] : [])),
      figures: {
        host: HOST,
        serverConcurrency: SERVER_CONCURRENCY,
        clientConcurrency: CLIENT_CONCURRENCY,
        durationMs: phases.ms,
        warmupMs: phases.warmupMs,
        latencyDurationMs: latencyMs,
        createTasks: create,
        finishedDuringPost,
        finishedPerSecDuringPost,
        drainAfterCreate: { ...drained, recordedIds: ids.length },
        readTask: read,
        bareElysia: bare,
        kilnOverBare: { post: postShare, get: getShare },
        responsiveness,
        startup,
        serverLag: { post: lagText(create.lag), get: lagText(read.lag) },
      },
      notes,
    };
  },
};
