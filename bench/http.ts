// Scenario "http": kiln's REST API under a fixed number of in-flight requests — POST /tasks and
// GET /tasks/:id — then GET /tasks/:id and /health one at a time with idle vs. CPU-saturated
// workers, plus the compiled binary's size, start-up time and idle RSS. The server runs in a
// child process (bench/http-server.ts) so the load generator here does not compete with it for
// one event loop; on a small machine they still share the CPU cores, which the CPU figures show.
import {
  HOST,
  type LoadFigures,
  load,
  loadRow,
  postJson,
  Server,
  type TaskBody,
  waitForUsage,
} from "./http-client.ts";
import { measureResponsiveness, responsivenessRows } from "./responsiveness.ts";
import { measureStartup, startupRows } from "./startup.ts";
import { type BenchOptions, round, type Scenario, type ScenarioResult } from "./util.ts";

/** Workers of the server under test; the loaded phases saturate all of them. */
const SERVER_CONCURRENCY = 2;
/** Requests kept in flight by the load generator during the throughput phases. */
const CLIENT_CONCURRENCY = 16;
const DRAIN_TIMEOUT_MS = 60_000;

export const http: Scenario = {
  name: "http",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const ms = options.quick ? 1_000 : 5_000;
    const warmupMs = options.quick ? 300 : 1_000;
    const latencyMs = options.quick ? 500 : 2_500;
    const latencyWarmupMs = options.quick ? 200 : 500;
    const launches = options.quick ? 2 : 5;

    const ids: string[] = [];
    const measured = await Server.with({ concurrency: SERVER_CONCURRENCY }, async (server) => {
      const create = await load(server, {
        label: "POST /tasks (bench-noop)",
        concurrency: CLIENT_CONCURRENCY,
        warmupMs,
        ms,
        next: () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
        expect: 201,
        onBody: (body) => ids.push((JSON.parse(body) as TaskBody).id),
      });
      const t0 = performance.now();
      await waitForUsage(
        server,
        (u) => u.queued === 0 && u.running === 0,
        DRAIN_TIMEOUT_MS,
        "the POST /tasks backlog to drain",
        50,
      );
      const drainMs = round(performance.now() - t0, 0);
      const drained = { ms: drainMs, finished: (await server.usage(true)).finished };
      if (ids.length === 0) throw new Error("POST /tasks created no task");
      const randomTask = () => ({ path: `/tasks/${ids[Math.floor(Math.random() * ids.length)]}` });
      const read = await load(server, {
        label: "GET /tasks/:id",
        concurrency: CLIENT_CONCURRENCY,
        warmupMs,
        ms,
        next: randomTask,
        expect: 200,
      });
      const responsiveness = await measureResponsiveness(
        server,
        SERVER_CONCURRENCY,
        [
          { label: "GET /tasks/:id", next: randomTask },
          { label: "/health", next: () => ({ path: "/health" }) },
        ],
        latencyWarmupMs,
        latencyMs,
      );
      return { create, drained, read, responsiveness };
    });
    const { create, drained, read, responsiveness } = measured;
    const startup = await measureStartup(launches);

    const probes = Object.values(responsiveness.probes);
    const loadFigures: LoadFigures[] = [create, read, ...probes.flatMap((p) => [p.idle, p.loaded])];
    const errors = loadFigures.filter((f) => f.errors > 0);
    const getRatio = responsiveness.probes["GET /tasks/:id"]?.ratio;
    const notes = [
      `The server (TaskManager with the bench tasks, concurrency ${SERVER_CONCURRENCY}, fresh SQLite file, + createKilnApp) runs in a child process on ${HOST}; this process generates the load with fetch() over keep-alive connections. They share the machine's ${navigator.hardwareConcurrency} logical CPUs, not an event loop: 'server CPU %' (child, all threads) and 'client CPU %' (this process) are CPU time over wall time, 100 = one core; 'other CPU %' is the rest of the machine's busy time (/proc/stat), i.e. other processes competing for the same cores.`,
      `Throughput phases: a closed loop of ${CLIENT_CONCURRENCY} requests in flight for ${ms} ms after ${warmupMs} ms unrecorded; latency = fetch() call → end of the response body. Errors = any status other than the expected one (201 / 200) or a network error${
        errors.length > 0
          ? `: ${JSON.stringify(Object.fromEntries(errors.map((f) => [f.path, f.errorKinds])))}`
          : ""
      }.`,
      `POST /tasks created durable bench-noop tasks that ran on the server's workers meanwhile; the backlog took ${drained.ms} ms to drain after the phase (${drained.finished} FINISHED in the db, warm-up included). GET /tasks/:id then read random ones of the ${ids.length} recorded ids. End-to-end tasks/s over HTTP (N tasks posted and run to FINISHED) is in the throughput scenario.`,
      `Responsiveness: each probe one request at a time for ${latencyMs} ms (after ${latencyWarmupMs} ms unrecorded), idle and then with ${responsiveness.spinningTasks} bench-tick {mode: "busy"} tasks (1 ms spins between checkpoints) on all ${SERVER_CONCURRENCY} workers; they were still RUNNING afterwards and were then stopped.${
        getRatio ? ` GET /tasks/:id loaded / idle: p50 × ${getRatio.p50}, p99 × ${getRatio.p99}.` : ""
      }`,
      `Start-up: median of ${launches} launches, each on a fresh temp db and a free port (default concurrency: ${Math.max(2, navigator.hardwareConcurrency)} workers, started at once), polled every ~2 ms until /health answers 200; idle RSS read from /proc 500 ms later; then SIGTERM.`,
    ];
    if (!("launches" in startup.binary)) notes.push(`dist/kiln: ${startup.binary.reason}`);

    const healthRatio = responsiveness.probes["/health"]?.ratio;
    const binary = "launches" in startup.binary ? startup.binary : undefined;
    return {
      name: "http",
      headlines: [
        {
          what: "API p99 with every worker CPU-bound ÷ idle: GET /tasks/:id, /health",
          aim: "≤ 2×",
          measured: `× ${getRatio?.p99 ?? "-"}, × ${healthRatio?.p99 ?? "-"}`,
          met: getRatio && healthRatio ? getRatio.p99 <= 2 && healthRatio.p99 <= 2 : null,
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
      ],
      tables: [
        {
          title: "http: requests against a kiln server in a child process",
          rows: [create, read].map(loadRow),
        },
        {
          title: `http: API latency, idle vs. every worker CPU-bound (${SERVER_CONCURRENCY} workers)`,
          rows: responsivenessRows(responsiveness),
        },
        { title: "http: start-up footprint", rows: startupRows(startup) },
      ],
      figures: {
        host: HOST,
        serverConcurrency: SERVER_CONCURRENCY,
        clientConcurrency: CLIENT_CONCURRENCY,
        durationMs: ms,
        warmupMs,
        latencyDurationMs: latencyMs,
        createTasks: create,
        drainAfterCreate: { ...drained, recordedIds: ids.length },
        readTask: read,
        responsiveness,
        startup,
      },
      notes,
    };
  },
};
