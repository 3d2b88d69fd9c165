// The contract alone over HTTP: the bare Elysia app's two routes (bench/bare-elysia-server.ts) in
// front of the contract's engine (engine.ts), so that a 201 means the task and its history row
// are committed, and the tasks created run meanwhile on its workers. What any server keeping
// kiln's contract could reach on this machine, beside kiln's and the bare app's figures. Same
// protocol as bench/http-server.ts: prints `{"port": N}`, answers USAGE_PATH and LAG_PATH, ends
// on SIGTERM, SIGINT or when stdin closes.
// Usage: bun bench/lean/http-server.ts [--concurrency N] [--split-creates] [--writer-thread]
// (--split-creates: the creates of a turn committed apart from its ends and starts, as kiln did;
// --writer-thread: the commits made on a thread of their own, engine.ts's `writer: "thread"`)
import { join } from "node:path";
import { Elysia } from "elysia";
import { CREATE_BODY, taskJson } from "../bare-elysia-server.ts";
import { migrateWith } from "../child-run.ts";
import { concurrencyArg, LAG_PATH, type ServerUsage, USAGE_PATH } from "../http-server.ts";
import { LagMonitor } from "../lag-monitor.ts";
import { serveUntilStopped } from "../server-lifecycle.ts";
import { tempDir } from "../util.ts";
import { LeanEngine, type LeanTaskRow } from "./engine.ts";

const ROOT = join(import.meta.dir, "..", "..");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The bare route of `POST /tasks` in front of the contract's create: 201 once the task is committed. */
export function leanCreateRoute(engine: LeanEngine) {
  return new Elysia().post(
    "/tasks",
    async ({ body, set }) => {
      const params = body.params === undefined ? null : body.params;
      const id = await engine.createOne(body.name, params === null ? null : JSON.stringify(params));
      set.status = 201;
      return taskJson(id, body.name, params);
    },
    { body: CREATE_BODY },
  );
}

/** A stored row in the shape of kiln's task JSON. */
function rowJson(row: LeanTaskRow) {
  return {
    ...taskJson(row.id, row.task_name, row.params === null ? null : JSON.parse(row.params)),
    status: row.status,
    result: row.result === null ? null : JSON.parse(row.result),
    createdAt: iso(row.created_at),
    startTime: iso(row.start_time),
    endTime: iso(row.end_time),
  };
}

if (import.meta.main) {
  const concurrency = concurrencyArg(Bun.argv);
  const tmp = tempDir("lean-http");
  await migrateWith(ROOT, tmp.db);
  let finished = 0;
  const engine = new LeanEngine(
    tmp.db,
    concurrency,
    (count) => {
      finished += count;
    },
    {
      splitCreates: Bun.argv.includes("--split-creates"),
      writer: Bun.argv.includes("--writer-thread") ? "thread" : "main",
    },
  );
  const lag = new LagMonitor().start();
  const app = new Elysia()
    .use(leanCreateRoute(engine))
    .get("/tasks/:id", ({ params, status }) => {
      const row = engine.get(params.id);
      return row === null ? status(404, { error: `no task ${params.id}` }) : rowJson(row);
    })
    .get(USAGE_PATH, (): ServerUsage => {
      const cpu = process.cpuUsage();
      return {
        cpuMicros: cpu.user + cpu.system,
        ...engine.counts(),
        workers: concurrency,
        finished: -1,
        finishedEvents: finished,
        lastFinishedAt: 0,
        progressRows: 0,
        store: null,
      };
    })
    .get(LAG_PATH, () => lag.summary(true))
    .listen({ hostname: "127.0.0.1", port: 0 });
  await serveUntilStopped(app.server?.port, async () => {
    await app.stop();
    await engine.close();
    tmp.cleanup();
  });
}
