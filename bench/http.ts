// Scenario "http": kiln's REST API under a fixed number of in-flight requests — POST /tasks,
// GET /tasks/:id, and GET /health with idle vs. CPU-saturated workers — plus the compiled
// binary's size and start-up time. The server runs in a child process (bench/http-server.ts)
// so the load generator here does not compete with it for one event loop; on a small machine
// they still share the CPU cores, which the printed CPU figures show.
import { existsSync, readFileSync, statSync } from "node:fs";
import { type ServerUsage, USAGE_PATH } from "./http-server.ts";
import {
  type BenchOptions,
  median,
  mib,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
  type Summary,
  summarize,
  tempDir,
} from "./util.ts";

const HOST = "127.0.0.1";
const SERVER_SCRIPT = Bun.fileURLToPath(new URL("./http-server.ts", import.meta.url));
const CLI_SOURCE = Bun.fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const BINARY = Bun.fileURLToPath(new URL("../dist/kiln", import.meta.url));
const BINARY_SKIPPED = "skipped: dist/kiln not built (run `bun run build`)";

/** Workers of the server under test; the loaded /health phase saturates all of them. */
const SERVER_CONCURRENCY = 2;
/** Requests kept in flight by the load generator during the throughput phases. */
const CLIENT_CONCURRENCY = 16;
const START_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 5_000;

interface LoadFigures {
  path: string;
  concurrency: number;
  ms: number;
  requests: number;
  errors: number;
  /** Non-expected statuses and network errors, by status code or error name. */
  errorKinds: Record<string, number>;
  requestsPerSec: number;
  latencyMs: Summary;
  /** Server process CPU time (all its threads) over wall time, in % of one core. */
  serverCpuPercent: number;
  /** This process's CPU time over wall time, in % of one core. */
  clientCpuPercent: number;
  /** Busy CPU of the whole machine minus server and client (other processes), or null off Linux. */
  otherCpuPercent: number | null;
}

/** Busy CPU time of the whole machine in ms, from /proc/stat; null where there is none. */
function machineBusyMs(): number | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]
      ?.trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    if (!fields || fields.length < 8) return null;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    // /proc/stat counts in USER_HZ ticks, which is 100 per second on every mainstream Linux build.
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return null;
  }
}

interface Request {
  path: string;
  init?: RequestInit;
}

class Server {
  private constructor(
    readonly process: Bun.Subprocess<"pipe", "pipe", "pipe">,
    readonly base: string,
    private readonly stderr: Promise<string>,
  ) {}

  static async start(): Promise<Server> {
    const child = Bun.spawn([process.execPath, SERVER_SCRIPT, "--concurrency", String(SERVER_CONCURRENCY)], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
    try {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`bench server exited before serving: ${(await stderr).trim()}`);
        buffered += decoder.decode(value, { stream: true });
      }
    } finally {
      clearTimeout(timer);
    }
    // The server prints nothing after its port line, but drain stdout so it can never block.
    void (async () => {
      while (!(await reader.read()).done) {}
    })();
    const { port } = JSON.parse(buffered.slice(0, buffered.indexOf("\n"))) as { port: number };
    return new Server(child, `http://${HOST}:${port}`, stderr);
  }

  async usage(): Promise<ServerUsage> {
    const response = await fetch(`${this.base}${USAGE_PATH}`);
    if (!response.ok) throw new Error(`${USAGE_PATH} answered ${response.status}`);
    return (await response.json()) as ServerUsage;
  }

  async json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}${path}`, init);
    return { status: response.status, body: (await response.json()) as T };
  }

  async stop(): Promise<void> {
    this.process.kill("SIGTERM");
    const exited = await Promise.race([this.process.exited, Bun.sleep(EXIT_TIMEOUT_MS).then(() => null)]);
    if (exited === null) {
      this.process.kill("SIGKILL");
      await this.process.exited;
      throw new Error(
        `bench server ignored SIGTERM for ${EXIT_TIMEOUT_MS} ms: ${(await this.stderr).trim()}`,
      );
    }
    if (exited !== 0) throw new Error(`bench server exited with ${exited}: ${(await this.stderr).trim()}`);
  }
}

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/**
 * A closed loop of `concurrency` clients, each sending its next request as soon as the
 * previous answer's body has been read, for `warmupMs` unrecorded and then `ms` recorded.
 * Latency is from just before fetch() to the end of the body.
 */
async function load(
  server: Server,
  label: string,
  concurrency: number,
  warmupMs: number,
  ms: number,
  next: () => Request,
  expect: number,
  onBody?: (body: string) => void,
): Promise<LoadFigures> {
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let recording = false;
  let stopAt = performance.now() + warmupMs;
  const client = async () => {
    while (performance.now() < stopAt) {
      const request = next();
      const t0 = performance.now();
      let kind: string | undefined;
      try {
        const response = await fetch(`${server.base}${request.path}`, request.init);
        const body = await response.text();
        if (response.status !== expect) kind = String(response.status);
        else onBody?.(body);
      } catch (error) {
        kind = error instanceof Error ? error.name : "error";
      }
      const elapsed = performance.now() - t0;
      if (!recording) continue;
      if (kind === undefined) latencies.push(elapsed);
      else errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    }
  };
  if (warmupMs > 0) await Promise.all(Array.from({ length: concurrency }, client));

  const server0 = await server.usage();
  const machine0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  recording = true;
  const t0 = performance.now();
  stopAt = t0 + ms;
  await Promise.all(Array.from({ length: concurrency }, client));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const machine1 = machineBusyMs();
  const server1 = await server.usage();
  const serverMs = (server1.cpuMicros - server0.cpuMicros) / 1000;
  const clientMs = (cpu.user + cpu.system) / 1000;
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    path: label,
    concurrency,
    ms: round(wall, 1),
    requests: latencies.length,
    errors,
    errorKinds,
    requestsPerSec: round((latencies.length / wall) * 1000, 0),
    latencyMs: summarize(latencies),
    serverCpuPercent: round((serverMs / wall) * 100, 0),
    clientCpuPercent: round((clientMs / wall) * 100, 0),
    otherCpuPercent:
      machine0 === null || machine1 === null
        ? null
        : round((Math.max(0, machine1 - machine0 - serverMs - clientMs) / wall) * 100, 0),
  };
}

/** Waits until the server has no task queued or running (the tasks POST /tasks created). */
async function drain(server: Server): Promise<{ ms: number; finished: number }> {
  const t0 = performance.now();
  for (;;) {
    const usage = await server.usage();
    if (usage.queued === 0 && usage.running === 0) {
      return { ms: round(performance.now() - t0, 0), finished: usage.finished };
    }
    if (performance.now() - t0 > DRAIN_TIMEOUT_MS) {
      throw new Error(`${usage.queued} tasks still queued after ${DRAIN_TIMEOUT_MS} ms`);
    }
    await Bun.sleep(50);
  }
}

interface TaskBody {
  id: string;
  status: string;
}

async function waitForStatus(server: Server, id: string, status: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const { body } = await server.json<TaskBody>(`/tasks/${id}`);
    if (body.status === status) return;
    if (performance.now() > until) throw new Error(`task ${id} is ${body.status}, not ${status}`);
    await Bun.sleep(20);
  }
}

interface HealthFigures {
  idle: LoadFigures;
  loaded: LoadFigures;
  /** Tasks spinning on the workers during the loaded phase, each still RUNNING after it. */
  spinningTasks: number;
  ratio: { p50: number; p99: number; requestsPerSec: number };
}

/** /health with one request at a time: idle, then with every worker busy on a CPU-bound task. */
async function measureHealth(server: Server, warmupMs: number, ms: number): Promise<HealthFigures> {
  const health = () => ({ path: "/health" });
  const idle = await load(server, "/health (idle)", 1, warmupMs, ms, health, 200);

  const ids: string[] = [];
  for (let i = 0; i < SERVER_CONCURRENCY; i++) {
    const { status, body } = await server.json<TaskBody>(
      "/tasks",
      postJson({ name: "bench-tick", params: { mode: "busy" } }),
    );
    if (status !== 201) throw new Error(`creating a busy bench-tick answered ${status}`);
    ids.push(body.id);
  }
  for (const id of ids) await waitForStatus(server, id, "RUNNING", 10_000);
  const loaded = await load(server, "/health (workers busy)", 1, warmupMs, ms, health, 200);
  // A task that had ended early would make the "loaded" figures idle ones.
  for (const id of ids) {
    const { body } = await server.json<TaskBody>(`/tasks/${id}`);
    if (body.status !== "RUNNING")
      throw new Error(`busy task ${id} was ${body.status} during the measurement`);
  }
  for (const id of ids) {
    const { status } = await server.json<unknown>(`/tasks/${id}/stop?wait=5000`, postJson({}));
    if (status !== 200) throw new Error(`stopping busy task ${id} answered ${status}`);
    await waitForStatus(server, id, "STOPPED", 5_000);
  }
  return {
    idle,
    loaded,
    spinningTasks: ids.length,
    ratio: {
      p50: round(loaded.latencyMs.median / idle.latencyMs.median, 2),
      p99: round(loaded.latencyMs.p99 / idle.latencyMs.p99, 2),
      requestsPerSec: round(loaded.requestsPerSec / idle.requestsPerSec, 2),
    },
  };
}

interface StartupFigures {
  what: string;
  command: string;
  sizeMiB: number | null;
  launches: number;
  /** exec → first 200 on /health, per launch. */
  firstHealthMs: number[];
  medianFirstHealthMs: number;
  /** SIGTERM → process exit, per launch. */
  exitMs: number[];
  medianExitMs: number;
}

/** A port nothing listens on right now (the launched process binds it a moment later). */
async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: HOST, port: 0, fetch: () => new Response() });
  const port = probe.port;
  await probe.stop(true);
  if (port === undefined) throw new Error("could not pick a free port");
  return port;
}

/** Execs `kiln serve` on a fresh database and times it to its first 200 on /health, then ends it. */
async function launchOnce(command: string[]): Promise<{ firstHealthMs: number; exitMs: number }> {
  const tmp = tempDir("startup");
  const port = await freePort();
  try {
    const t0 = performance.now();
    const child = Bun.spawn([...command, "serve", "--host", HOST, "--port", String(port), "--db", tmp.db], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const stderr = new Response(child.stderr).text();
    let firstHealthMs: number | undefined;
    try {
      while (firstHealthMs === undefined) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${command.join(" ")} exited before serving: ${(await stderr).trim()}`);
        }
        if (performance.now() - t0 > START_TIMEOUT_MS)
          throw new Error(`no 200 on /health after ${START_TIMEOUT_MS} ms`);
        try {
          const response = await fetch(`http://${HOST}:${port}/health`);
          await response.arrayBuffer();
          if (response.status === 200) {
            firstHealthMs = performance.now() - t0;
            break;
          }
        } catch {
          // Not listening yet: connection refused.
        }
        await Bun.sleep(2);
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM");
    }
    const t1 = performance.now();
    const exited = await Promise.race([child.exited, Bun.sleep(EXIT_TIMEOUT_MS).then(() => null)]);
    if (exited === null) {
      child.kill("SIGKILL");
      await child.exited;
    }
    return { firstHealthMs, exitMs: performance.now() - t1 };
  } finally {
    tmp.cleanup();
  }
}

async function measureStartup(what: string, command: string[], launches: number): Promise<StartupFigures> {
  const firstHealthMs: number[] = [];
  const exitMs: number[] = [];
  for (let i = 0; i < launches; i++) {
    const run = await launchOnce(command);
    firstHealthMs.push(round(run.firstHealthMs, 1));
    exitMs.push(round(run.exitMs, 1));
  }
  const file = command.length === 1 ? command[0] : undefined;
  return {
    what,
    command: command.join(" "),
    sizeMiB: file ? mib(statSync(file).size) : null,
    launches,
    firstHealthMs,
    medianFirstHealthMs: round(median(firstHealthMs), 1),
    exitMs,
    medianExitMs: round(median(exitMs), 1),
  };
}

function firstLine(text: string, max: number): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const loadRow = (f: LoadFigures): Row => ({
  request: f.path,
  "in flight": f.concurrency,
  requests: f.requests,
  errors: f.errors,
  "req/s": f.requestsPerSec,
  "p50 ms": f.latencyMs.median,
  "p99 ms": f.latencyMs.p99,
  "max ms": f.latencyMs.max,
  "server CPU %": f.serverCpuPercent,
  "client CPU %": f.clientCpuPercent,
  "other CPU %": f.otherCpuPercent ?? "-",
});

const startupRow = (f: StartupFigures): Row => ({
  what: f.what,
  "size MiB": f.sizeMiB ?? "-",
  launches: f.launches,
  "exec → 200 /health median ms": f.medianFirstHealthMs,
  "min ms": Math.min(...f.firstHealthMs),
  "max ms": Math.max(...f.firstHealthMs),
  "SIGTERM → exit median ms": f.medianExitMs,
});

export const http: Scenario = {
  name: "http",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const ms = options.quick ? 1_500 : 5_000;
    const warmupMs = options.quick ? 300 : 1_000;
    const healthMs = options.quick ? 750 : 2_500;
    const launches = options.quick ? 3 : 5;

    const server = await Server.start();
    let create: LoadFigures;
    let drained: { ms: number; finished: number };
    let read: LoadFigures;
    let health: HealthFigures;
    const ids: string[] = [];
    try {
      create = await load(
        server,
        "POST /tasks (bench-noop)",
        CLIENT_CONCURRENCY,
        warmupMs,
        ms,
        () => ({ path: "/tasks", init: postJson({ name: "bench-noop" }) }),
        201,
        (body) => ids.push((JSON.parse(body) as TaskBody).id),
      );
      drained = await drain(server);
      if (ids.length === 0) throw new Error("POST /tasks created no task");
      read = await load(
        server,
        "GET /tasks/:id",
        CLIENT_CONCURRENCY,
        warmupMs,
        ms,
        () => ({ path: `/tasks/${ids[Math.floor(Math.random() * ids.length)]}` }),
        200,
      );
      health = await measureHealth(server, warmupMs, healthMs);
    } catch (error) {
      // The measurement's error is the one to report, not a consequence of it at shutdown.
      await server.stop().catch(() => {});
      throw error;
    }
    await server.stop();

    const fromSource = await measureStartup(
      "bun src/cli/main.ts serve",
      [process.execPath, CLI_SOURCE],
      launches,
    );
    // Why there are no binary figures: not built, or it did not come up (its size still counts).
    let binary: StartupFigures | undefined;
    let binaryMissing: { reason: string; sizeMiB: number | null } | undefined;
    if (!existsSync(BINARY)) binaryMissing = { reason: BINARY_SKIPPED, sizeMiB: null };
    else {
      try {
        binary = await measureStartup("dist/kiln serve", [BINARY], launches);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        binaryMissing = { reason: `failed: ${message}`, sizeMiB: mib(statSync(BINARY).size) };
      }
    }

    const loadRows = [create, read, health.idle, health.loaded].map(loadRow);
    const healthRows: Row[] = [
      {
        "/health, 1 in flight": "idle",
        "p50 ms": health.idle.latencyMs.median,
        "p99 ms": health.idle.latencyMs.p99,
        "req/s": health.idle.requestsPerSec,
      },
      {
        "/health, 1 in flight": `${health.spinningTasks} CPU-bound tasks on ${SERVER_CONCURRENCY} workers`,
        "p50 ms": health.loaded.latencyMs.median,
        "p99 ms": health.loaded.latencyMs.p99,
        "req/s": health.loaded.requestsPerSec,
      },
      {
        "/health, 1 in flight": "ratio loaded / idle",
        "p50 ms": health.ratio.p50,
        "p99 ms": health.ratio.p99,
        "req/s": health.ratio.requestsPerSec,
      },
    ];
    const startupRows: Row[] = [startupRow(fromSource)];
    if (binary) startupRows.push(startupRow(binary));
    if (binaryMissing)
      startupRows.push({
        what: "dist/kiln serve",
        "size MiB": binaryMissing.sizeMiB ?? "-",
        launches: 0,
        "exec → 200 /health median ms": firstLine(binaryMissing.reason, 80),
        "min ms": "-",
        "max ms": "-",
        "SIGTERM → exit median ms": "-",
      });

    const notes = [
      `The server (TaskManager with the bench tasks, concurrency ${SERVER_CONCURRENCY}, fresh SQLite file, + createKilnApp) runs in a child process on ${HOST}; this process generates the load with fetch() over keep-alive connections. They share the machine's ${navigator.hardwareConcurrency} logical CPUs, not an event loop: 'server CPU %' (child, all threads) and 'client CPU %' (this process) are CPU time over wall time, 100 = one core; 'other CPU %' is the rest of the machine's busy time (/proc/stat), i.e. other processes competing for the same cores.`,
      `Throughput phases: a closed loop of ${CLIENT_CONCURRENCY} requests in flight for ${ms} ms after ${warmupMs} ms unrecorded; latency = fetch() call → end of the response body. Errors = any status other than the expected one (201 / 200) or a network error${
        create.errors + read.errors + health.idle.errors + health.loaded.errors > 0
          ? `: ${JSON.stringify({ create: create.errorKinds, read: read.errorKinds, healthIdle: health.idle.errorKinds, healthLoaded: health.loaded.errorKinds })}`
          : ""
      }.`,
      `POST /tasks created durable bench-noop tasks that ran on the server's workers meanwhile; the backlog took ${drained.ms} ms to drain after the phase (${drained.finished} FINISHED in the db, warm-up included). GET /tasks/:id then read random ones of the ${ids.length} recorded ids.`,
      `/health: one request at a time for ${healthMs} ms each, idle and then with ${health.spinningTasks} bench-tick {mode: "busy"} tasks (1 ms spins between checkpoints) on all ${SERVER_CONCURRENCY} workers; they were still RUNNING afterwards and were then stopped. Loaded / idle: p50 × ${health.ratio.p50}, p99 × ${health.ratio.p99}.`,
      `Start-up: median of ${launches} launches, each on a fresh temp db and a free port, polled every ~2 ms until /health answers 200, then sent SIGTERM.`,
    ];
    if (binaryMissing) notes.push(`dist/kiln: ${binaryMissing.reason}`);

    return {
      name: "http",
      tables: [
        { title: "http: requests against a kiln server in a child process", rows: loadRows },
        { title: "http: /health latency, idle vs. every worker CPU-bound", rows: healthRows },
        { title: "http: start-up footprint", rows: startupRows },
      ],
      figures: {
        host: HOST,
        serverConcurrency: SERVER_CONCURRENCY,
        clientConcurrency: CLIENT_CONCURRENCY,
        durationMs: ms,
        warmupMs,
        healthDurationMs: healthMs,
        createTasks: create,
        drainAfterCreate: { ...drained, recordedIds: ids.length },
        readTask: read,
        health,
        startup: {
          fromSource,
          binary: binary ?? binaryMissing,
        },
      },
      notes,
    };
  },
};
