// What a create costs in process, layer by layer, with nothing running meanwhile: kiln's
// `POST /tasks` through `app.handle` (no socket); kiln's pieces of that path added one at a time
// to a bare Elysia route in front of `manager.submit()` (the answer as kiln encodes it, then its
// JSON body parser, then its strict body schema, then its security headers, CORS and Host and
// cross-site guard); `manager.submit()` alone; the contract alone's create (bench/lean/engine.ts)
// behind the bare route, and alone; and the bare route with nothing behind it. 16 in flight at a
// time, as the http scenario's client keeps; rounds rotate the order, the first two are dropped.
// Usage: bun bench/create-layers.ts [--rounds 7] [--n 4000]
import { join } from "node:path";
import { Elysia } from "elysia";
import { HostAllowList } from "../src/http/allowed-hosts.ts";
import { DEFAULT_MAX_BODY_BYTES, jsonBodyParser, strictObjectBody } from "../src/http/body.ts";
import { CorsPolicy } from "../src/http/cors.ts";
import { createKilnApp } from "../src/http/index.ts";
import { jsonResponse } from "../src/http/json-response.ts";
import { presentTask } from "../src/http/presenters.ts";
import { RequestGuard } from "../src/http/request-guard.ts";
import { CreateTaskBody } from "../src/http/schemas.ts";
import { addSecurityHeaders } from "../src/http/security-headers.ts";
import { silentLogger, TaskManager } from "../src/index.ts";
import { bareCreateRoute, CREATE_BODY } from "./bare-elysia-server.ts";
import { migrateWith } from "./child-run.ts";
import { LeanEngine } from "./lean/engine.ts";
import { leanCreateRoute } from "./lean/http-server.ts";
import { formatTable, median, round, TASKS_URL, tempDir } from "./util.ts";

const IN_FLIGHT = 16;
const WARMUP_ROUNDS = 2;
const arg = (name: string, fallback: number) => {
  const index = Bun.argv.indexOf(name);
  return index >= 0 ? Number(Bun.argv[index + 1]) : fallback;
};
const rounds = arg("--rounds", 7);
const n = arg("--n", 4_000);
if (!Number.isInteger(rounds) || rounds <= WARMUP_ROUNDS || !Number.isInteger(n) || n < IN_FLIGHT) {
  console.error("usage: bun bench/create-layers.ts [--rounds 7] [--n 4000]");
  process.exit(2);
}

const tmp = tempDir("create-layers");
const manager = new TaskManager({ db: tmp.db, concurrency: 2, logger: silentLogger });
await manager.load(TASKS_URL);
await manager.start();
// Nothing runs: the creates alone are measured, on both engines.
await manager.pauseTaskType("bench-noop", {});
const kilnApp = createKilnApp(manager);
const leanPath = `${tmp.dir}/lean.db`;
await migrateWith(join(import.meta.dir, ".."), leanPath);
const lean = new LeanEngine(leanPath, 0, () => {});
const bareApp = bareCreateRoute();
const bareSchema = { body: CREATE_BODY };
const leanApp = leanCreateRoute(lean);
/** kiln's pieces of the `POST /tasks` path, the first `pieces` of them, in front of `manager.submit()`. */
function kilnLadder(pieces: number) {
  const cors = new CorsPolicy();
  const guard = new RequestGuard(new HostAllowList(undefined), cors);
  let app = new Elysia();
  if (pieces >= 2) app = app.onParse(jsonBodyParser(DEFAULT_MAX_BODY_BYTES));
  if (pieces >= 4)
    app = app.onTransform(({ request, set }) => {
      addSecurityHeaders(set);
      cors.decorate({ request, set });
      guard.check({ request });
    });
  const schema =
    pieces >= 3 ? { body: CreateTaskBody, transform: strictObjectBody(CreateTaskBody) } : bareSchema;
  return app.post(
    "/tasks",
    async ({ body, set }) => {
      const { task } = await manager.submit(body.name, body.params);
      return jsonResponse(set, presentTask(task), 201);
    },
    schema,
  );
}

const request = () =>
  new Request("http://127.0.0.1/tasks", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"name":"bench-noop"}',
  });
const handled = (app: { handle(request: Request): Promise<Response> }) => async () => {
  const response = await app.handle(request());
  if (response.status !== 201) throw new Error(`POST /tasks answered ${response.status}`);
  await response.text();
};
const layers: Array<[string, () => Promise<unknown>]> = [
  ["kiln: POST /tasks through app.handle", handled(kilnApp)],
  ["kiln: bare route + submit(), answered as kiln does", handled(kilnLadder(1))],
  ["  + kiln's JSON body parser", handled(kilnLadder(2))],
  ["  + kiln's strict body schema", handled(kilnLadder(3))],
  ["  + security headers, CORS, Host and cross-site guard", handled(kilnLadder(4))],
  ["kiln: manager.submit()", () => manager.submit("bench-noop", null)],
  ["contract alone: the bare route + its create", handled(leanApp)],
  ["contract alone: its create", () => lean.createOne("bench-noop", null)],
  ["bare Elysia route, nothing behind it", handled(bareApp)],
];

const micros = new Map<string, number[]>(layers.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) {
  const order = [...layers.slice(r % layers.length), ...layers.slice(0, r % layers.length)];
  for (const [name, create] of order) {
    const t0 = performance.now();
    for (let i = 0; i < n; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, create));
    if (r >= WARMUP_ROUNDS) micros.get(name)?.push(((performance.now() - t0) * 1000) / n);
  }
}
console.log(
  `\nA create in process, ${IN_FLIGHT} in flight, ${n} a round, median of ${rounds - WARMUP_ROUNDS} rounds (Bun ${Bun.version})\n`,
);
console.log(
  formatTable(
    layers.map(([name]) => {
      const of = micros.get(name) ?? [];
      return {
        layer: name,
        "µs a create": round(median(of), 1),
        range: `${round(Math.min(...of), 1)}–${round(Math.max(...of), 1)}`,
      };
    }),
  ),
);
await lean.close();
await manager.shutdown();
tmp.cleanup();
process.exit(0);
