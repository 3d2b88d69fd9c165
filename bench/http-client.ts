// The client side of the HTTP scenarios: a kiln server (bench/http-server.ts) in a child process,
// and a closed-loop load generator with latency and CPU accounting.
import { LAG_PATH, type ServerUsage, USAGE_PATH } from "./http-server.ts";
import { type LagSummary, lagText } from "./lag-monitor.ts";
import { cpuPercent, machineBusyMs, type Row, round, type Summary, summarize } from "./util.ts";

export const HOST = "127.0.0.1";
const SERVER_SCRIPT = Bun.fileURLToPath(new URL("./http-server.ts", import.meta.url));
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 10_000;

export interface ServerOptions {
  concurrency: number;
  /** Another server script speaking the same protocol (its port line, USAGE_PATH, LAG_PATH). */
  script?: string;
  /** Wrap the store so the server reports its writes (a Proxy: about a microsecond per call). */
  countWrites?: boolean;
  /** More flags for the server script. */
  flags?: readonly string[];
}

export interface TaskBody {
  id: string;
  status: string;
  result?: unknown;
}

export interface Request {
  path: string;
  init?: RequestInit;
}

/** A GET of one of `ids` chosen at random, each call; `ids` may grow between calls. */
export const randomTaskOf = (ids: readonly string[]) => (): Request => ({
  path: `/tasks/${ids[Math.floor(Math.random() * ids.length)]}`,
});

export const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** What the load generator needs of a server: where it listens and its CPU time so far. */
export interface LoadTarget {
  base: string;
  /** CPU time of the server process (all its threads) so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** The server's event-loop lag since the last call (each call starts a new window); null if unknown. */
  lag?(): Promise<LagSummary | null>;
}

export class Server implements LoadTarget {
  private constructor(
    readonly process: Bun.Subprocess<"pipe", "pipe", "pipe">,
    readonly base: string,
    private readonly stderr: Promise<string>,
  ) {}

  static async start(options: ServerOptions): Promise<Server> {
    const args = [
      process.execPath,
      options.script ?? SERVER_SCRIPT,
      "--concurrency",
      String(options.concurrency),
    ];
    if (options.countWrites) args.push("--count-writes");
    args.push(...(options.flags ?? []));
    const child = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
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

  /** The server's CPU time and counters; `countRows` adds the FINISHED rows in its database. */
  async usage(countRows = false): Promise<ServerUsage> {
    const response = await fetch(`${this.base}${USAGE_PATH}${countRows ? "?count=1" : ""}`);
    if (!response.ok) throw new Error(`${USAGE_PATH} answered ${response.status}`);
    return (await response.json()) as ServerUsage;
  }

  async cpuMicros(): Promise<number> {
    return (await this.usage()).cpuMicros;
  }

  async lag(): Promise<LagSummary | null> {
    const response = await fetch(`${this.base}${LAG_PATH}`);
    return response.ok ? ((await response.json()) as LagSummary) : null;
  }

  async json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}${path}`, init);
    return { status: response.status, body: (await response.json()) as T };
  }

  /** Creates a task and returns its id; throws on any status but 201. */
  async create(name: string, params?: unknown): Promise<string> {
    const { status, body } = await this.json<TaskBody>("/tasks", postJson({ name, params }));
    if (status !== 201) throw new Error(`creating a ${name} task answered ${status}`);
    return body.id;
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

  /** Runs `body` against a fresh server and stops it; an error of `body` wins over one at shutdown. */
  static async with<T>(options: ServerOptions, body: (server: Server) => Promise<T>): Promise<T> {
    const server = await Server.start(options);
    let result: T;
    try {
      result = await body(server);
    } catch (error) {
      await server.stop().catch(() => {});
      throw error;
    }
    await server.stop();
    return result;
  }
}

export interface LoadFigures {
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
  /** The server's event-loop lag during the recorded phase, where the server reports it. */
  lag: LagSummary | null;
}

export interface LoadOptions {
  label: string;
  concurrency: number;
  warmupMs: number;
  /** Recorded phase: ends after this long, or after `maxRequests` requests were sent. */
  ms: number;
  maxRequests?: number;
  next: () => Request;
  expect: number;
  onBody?: (body: string) => void;
  /** Called (and awaited) just before the first recorded request is sent. */
  onRecordingStart?: () => Promise<void> | void;
  /** Called (and awaited) as soon as the last recorded answer is in. */
  onRecordingEnd?: () => Promise<void> | void;
}

/**
 * A closed loop of `concurrency` clients, each sending its next request as soon as the
 * previous answer's body has been read, for `warmupMs` unrecorded and then `ms` recorded.
 * Latency is from just before fetch() to the end of the body.
 */
export async function load(server: LoadTarget, options: LoadOptions): Promise<LoadFigures> {
  const { concurrency, next, expect, onBody } = options;
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let recording = false;
  let sent = 0;
  const budget = options.maxRequests ?? Number.POSITIVE_INFINITY;
  let stopAt = performance.now() + options.warmupMs;
  const client = async () => {
    while (performance.now() < stopAt && (!recording || sent < budget)) {
      if (recording) sent++;
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
  if (options.warmupMs > 0) await Promise.all(Array.from({ length: concurrency }, client));

  const server0 = await server.cpuMicros();
  // Starts the server's lag window at the recorded phase.
  await server.lag?.();
  const machine0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  await options.onRecordingStart?.();
  recording = true;
  const t0 = performance.now();
  stopAt = t0 + options.ms;
  await Promise.all(Array.from({ length: concurrency }, client));
  const wall = performance.now() - t0;
  await options.onRecordingEnd?.();
  const cpu = process.cpuUsage(cpu0);
  const machine1 = machineBusyMs();
  const lag = (await server.lag?.()) ?? null;
  const server1 = await server.cpuMicros();
  const serverMs = (server1 - server0) / 1000;
  const clientMs = (cpu.user + cpu.system) / 1000;
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    path: options.label,
    concurrency,
    ms: round(wall, 1),
    requests: latencies.length,
    errors,
    errorKinds,
    requestsPerSec: round((latencies.length / wall) * 1000, 0),
    latencyMs: summarize(latencies),
    serverCpuPercent: cpuPercent(serverMs, wall),
    clientCpuPercent: cpuPercent(clientMs, wall),
    otherCpuPercent:
      machine0 === null || machine1 === null
        ? null
        : cpuPercent(Math.max(0, machine1 - machine0 - serverMs - clientMs), wall),
    lag,
  };
}

export const loadRow = (f: LoadFigures): Row => ({
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
  "server event loop": lagText(f.lag),
});

/** Polls until `done(usage)` holds; rejects after `timeoutMs`. */
export async function waitForUsage(
  server: Server,
  done: (usage: ServerUsage) => boolean,
  timeoutMs: number,
  what: string,
  pollMs = 20,
): Promise<ServerUsage> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const usage = await server.usage();
    if (done(usage)) return usage;
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(pollMs);
  }
}

export async function waitForStatus(
  server: Server,
  id: string,
  status: string,
  timeoutMs: number,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const { body } = await server.json<TaskBody>(`/tasks/${id}`);
    if (body.status === status) return;
    if (performance.now() > until) throw new Error(`task ${id} is ${body.status}, not ${status}`);
    await Bun.sleep(20);
  }
}

/** A port nothing listens on right now (the launched process binds it a moment later). */
export async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: HOST, port: 0, fetch: () => new Response() });
  const port = probe.port;
  await probe.stop(true);
  if (port === undefined) throw new Error("could not pick a free port");
  return port;
}
