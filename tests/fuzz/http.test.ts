// Property-based fuzzing of every HTTP route against a real server (its own process, a real
// SQLite file, real workers). FUZZ_RUNS (per route, default 120) and FUZZ_SEED widen or replay a run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { DEFAULT_MAX_BODY_BYTES } from "../../src/http/body.ts";
import { tempDir } from "../helpers.ts";
import { rawRequest, serverFaults } from "../http/raw-http.ts";
import { hugeRequest, type RouteInfo, rawRequestFor, requestFor, strayRequest } from "./arbitraries.ts";
import {
  DatabaseWatch,
  errorShapeProblem,
  type FuzzRequest,
  type FuzzResponse,
  type FuzzServer,
  send,
  startFuzzServer,
} from "./harness.ts";

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const STRAY_RUNS = RUNS_PER_ROUTE * 2;
const HUGE_RUNS = Math.max(12, Math.ceil(RUNS_PER_ROUTE / 5));
const RAW_RUNS = RUNS_PER_ROUTE * 3;
const MiB = 1024 * 1024;

const dir = tempDir("kiln-fuzz-");
let server: FuzzServer;
let watch: DatabaseWatch;

beforeAll(async () => {
  server = await startFuzzServer(dir.path);
  watch = new DatabaseWatch(server.dbPath);
});

afterAll(async () => {
  watch?.close();
  await server?.stop();
  dir.remove();
});

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

/** The route table of the app, joined with what its OpenAPI document says each route reads. */
async function routeTable(): Promise<{ routes: RouteInfo[]; documented: string[] }> {
  const response = await fetch(`${server.base}/swagger/json`);
  const spec = (await response.json()) as { paths: Record<string, Record<string, OpenApiOperation>> };
  const documented: string[] = [];
  const operations = new Map<string, OpenApiOperation>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
      documented.push(key);
      operations.set(key, operation);
    }
  }
  const routes = server.routes.map(({ method, path }) => {
    const operation = operations.get(`${method} ${path}`);
    const schema = Object.values(operation?.requestBody?.content ?? {})[0]?.schema;
    return {
      method,
      path,
      query: (operation?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      bodyFields: Object.keys(schema?.properties ?? {}),
    };
  });
  return { routes, documented };
}

const tally = { tried: 0, serverErrors: 0, rejected: 0, accepted: 0, headerTooLarge: 0, bareFromBun: 0 };
const violations: string[] = [];
/** Set after an accepted request: its writes (a task run) must end before the next snapshot. */
let dirty = false;

function describeRequest(request: FuzzRequest): string {
  const body =
    request.body === undefined
      ? "no body"
      : typeof request.body === "string"
        ? `body ${JSON.stringify(request.body.slice(0, 120))}${request.body.length > 120 ? `… (${request.body.length} chars)` : ""}`
        : request.body instanceof Uint8Array
          ? `${request.body.byteLength} bytes [${[...request.body.subarray(0, 16)].join(",")}]`
          : "a streamed body";
  return `${request.method} ${request.target.slice(0, 160)} ${JSON.stringify(request.headers)} ${body}`;
}

/** Sends one request and records every property it breaks; resolves with the answer, if any. */
async function judge(request: FuzzRequest): Promise<FuzzResponse | undefined> {
  if (dirty) {
    await server.quiet();
    dirty = false;
  }
  const before = watch.snapshot();
  tally.tried += 1;
  let response: Awaited<ReturnType<typeof send>>;
  try {
    response = await send(server.base, request);
  } catch (error) {
    violations.push(`no answer (${String(error)}): ${describeRequest(request)}`);
    dirty = true;
    return undefined;
  }
  if (response.status === 431 && response.text === "") {
    // Bun's HTTP server answers a request line and headers past its limit (16 KiB) itself,
    // with a bare 431, before the app sees the request; kiln cannot shape that answer.
    tally.headerTooLarge += 1;
    if (watch.snapshot() !== before)
      violations.push(`431 but the database changed: ${describeRequest(request)}`);
    return response;
  }
  if (response.status >= 500) {
    tally.serverErrors += 1;
    violations.push(`${response.status} ${response.text.slice(0, 200)}: ${describeRequest(request)}`);
    dirty = true;
  } else if (response.status >= 400) {
    tally.rejected += 1;
    const problem = errorShapeProblem(response, request.method);
    if (problem)
      violations.push(
        `${response.status} with a wrong error shape (${problem}): ${describeRequest(request)}`,
      );
    if (watch.snapshot() !== before)
      violations.push(`${response.status} but the database changed: ${describeRequest(request)}`);
  } else {
    tally.accepted += 1;
    dirty = true;
  }
  return response;
}

/**
 * Sends one request written byte for byte (no Host, HTTP/1.0, odd headers) and records what it
 * breaks: a 5xx or anything of Bun's error page, a body that is not the error shape, a change to
 * the database from a refused request. Bun's parser answers some requests itself (a bare 400
 * without a body): counted apart.
 */
async function judgeRaw(raw: string): Promise<void> {
  if (dirty) {
    await server.quiet();
    dirty = false;
  }
  const before = watch.snapshot();
  tally.tried += 1;
  const shown = JSON.stringify(raw.slice(0, 300));
  let response: Awaited<ReturnType<typeof rawRequest>>;
  try {
    response = await rawRequest(Number(new URL(server.base).port), raw);
  } catch (error) {
    violations.push(`no answer (${String(error)}): ${shown}`);
    dirty = true;
    return;
  }
  const faults = serverFaults(response);
  if (faults.length > 0) {
    if (response.status >= 500) tally.serverErrors += 1;
    violations.push(`${faults.join("; ")}: ${shown}`);
    dirty = true;
    return;
  }
  if (response.body === "" && response.status >= 400 && response.headers["content-type"] === undefined) {
    // Bun's parser refused the request itself (a bare 400, or 505 for a request line it cannot read).
    tally.bareFromBun += 1;
  } else if (response.status >= 400) {
    tally.rejected += 1;
    const problem = errorShapeProblem(
      { status: response.status, contentType: response.headers["content-type"] ?? "", text: response.body },
      raw.slice(0, raw.indexOf(" ")),
    );
    if (problem) violations.push(`${response.status} with a wrong error shape (${problem}): ${shown}`);
  } else {
    tally.accepted += 1;
    dirty = true;
    return;
  }
  if (watch.snapshot() !== before) violations.push(`${response.status} but the database changed: ${shown}`);
}

/** True when the router found no route for the request (kiln's own 404 for an unknown path). */
function unrouted(response: FuzzResponse): boolean {
  return response.status === 404 && response.text.includes('"message":"no route for ');
}

/**
 * Sends `runs` samples; resolves with how many reached `route`: sent with its method and answered
 * by it, not by the router's "no route" 404 (a HEAD answer has no body to tell, so it is left out).
 */
async function fuzz(
  arbitrary: fc.Arbitrary<FuzzRequest>,
  runs: number,
  seed: number,
  route?: RouteInfo,
): Promise<number> {
  let reached = 0;
  // Samples are drawn one run at a time so huge bodies are not all held at once.
  for (let run = 0; run < runs; run++) {
    const [request] = fc.sample(arbitrary, { numRuns: 1, seed: seed + run });
    if (!request) continue;
    const response = await judge(request);
    if (
      route &&
      response &&
      request.method === route.method &&
      route.method !== "HEAD" &&
      !unrouted(response)
    )
      reached += 1;
  }
  return reached;
}

test("every route: no 5xx, every 4xx in the error shape, no change to the database from a rejected request, bounded memory", async () => {
  console.log(`fuzz: seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${RUNS_PER_ROUTE} runs per route`);
  const { routes, documented } = await routeTable();
  // Every documented operation must be a route of the app, and so fuzzed below.
  const table = new Set(routes.map((route) => `${route.method} ${route.path}`));
  expect(documented.filter((key) => !table.has(key))).toEqual([]);

  // The watch must see a write, or "unchanged" would prove nothing.
  const unchanged = watch.snapshot();
  expect(watch.snapshot()).toBe(unchanged);
  const created = await fetch(`${server.base}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "echo", params: { value: "watch" } }),
  });
  expect(created.status).toBe(201);
  await server.quiet();
  expect(watch.snapshot()).not.toBe(unchanged);

  // Warm up (JIT, caches, pools) before the first memory sample.
  await fuzz(strayRequest(server.ids), 100, SEED ^ 0x5eed);
  await server.quiet();
  const memoryBefore = await server.memory();

  const reached = new Map<string, number>();
  for (const [index, route] of routes.entries()) {
    const count = await fuzz(
      requestFor(route, server.ids, Number(new URL(server.base).port)),
      RUNS_PER_ROUTE,
      SEED + index * 100_003,
      route,
    );
    reached.set(`${route.method} ${route.path}`, count);
  }
  await fuzz(strayRequest(server.ids), STRAY_RUNS, SEED + 7);
  const readers = routes.filter((route) => route.method !== "GET");
  await fuzz(hugeRequest(readers, DEFAULT_MAX_BODY_BYTES), HUGE_RUNS, SEED + 11);
  const raws = rawRequestFor(routes, server.ids, Number(new URL(server.base).port));
  for (let run = 0; run < RAW_RUNS; run++) {
    const [raw] = fc.sample(raws, { numRuns: 1, seed: SEED + 13 + run });
    if (raw !== undefined) await judgeRaw(raw);
  }

  await server.quiet();
  const memoryAfter = await server.memory();
  const mib = (bytes: number) => (bytes / MiB).toFixed(1);
  console.log(
    `fuzz: ${tally.tried} inputs tried over ${routes.length} routes (+ stray paths, ${HUGE_RUNS} oversized bodies, ${RAW_RUNS} raw requests); ` +
      `${tally.serverErrors} 5xx, ${tally.rejected} 4xx, ${tally.accepted} accepted, ${tally.headerTooLarge} bare 431 and ${tally.bareFromBun} bare 4xx from Bun; ` +
      `server memory after GC: RSS ${mib(memoryBefore.rss)} → ${mib(memoryAfter.rss)} MiB, ` +
      `heap ${mib(memoryBefore.heapUsed)} → ${mib(memoryAfter.heapUsed)} MiB`,
  );
  if (violations.length > 0)
    console.log(`fuzz: seed ${SEED}; first violations:\n${violations.slice(0, 20).join("\n")}`);
  const fives = violations.filter((violation) => /^5\d\d |status 5\d\d/.test(violation));
  if (fives.length > 0) console.log(`fuzz: the 5xx seen:\n${fives.slice(0, 10).join("\n")}`);
  if (server.serverErrors.length > 0)
    console.log(`fuzz: server logged:\n${server.serverErrors.slice(0, 5).join("\n")}`);

  // A route whose garbage mostly missed it (mangled paths the router did not match) is barely
  // fuzzed: each must have handled at least a quarter of its runs.
  const [leastRoute, leastCount] = [...reached].sort((a, b) => a[1] - b[1])[0] ?? ["none", 0];
  console.log(
    `fuzz: every route handled at least ${leastCount} of its ${RUNS_PER_ROUTE} runs (fewest: ${leastRoute})`,
  );
  const missed = [...reached].filter(([, count]) => count < Math.ceil(RUNS_PER_ROUTE / 4));
  if (missed.length > 0) console.log(`fuzz: routes reached too rarely: ${JSON.stringify(missed)}`);
  expect(missed).toEqual([]);
  expect(violations.slice(0, 20)).toEqual([]);
  expect(tally.serverErrors).toBe(0);
  expect(server.serverErrors).toEqual([]);
  // Generous: thousands of requests, some of them megabytes, must not leave their memory behind.
  expect(memoryAfter.heapUsed - memoryBefore.heapUsed).toBeLessThan(64 * MiB);
  expect(memoryAfter.rss - memoryBefore.rss).toBeLessThan(256 * MiB);
  expect((await fetch(`${server.base}/health`)).status).toBe(200);
}, 240_000);
