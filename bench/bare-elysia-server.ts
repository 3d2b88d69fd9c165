// The baseline of the HTTP aims: a bare Elysia app with the same two routes as kiln's hot path,
// POST /tasks (a TypeBox-checked body, 201 with a task's JSON) and GET /tasks/:id (a task's
// JSON), and nothing behind them: no engine, no database. What the framework and Bun cost on
// this machine, so kiln's figures can be read as a share of it. Same protocol as
// bench/http-server.ts: prints `{"port": N}`, answers USAGE_PATH and LAG_PATH, ends on SIGTERM,
// SIGINT or when stdin closes. POST SPIN_PATH?threads=N starts N threads spinning at the priority
// of kiln's task workers (bench/spin-worker.ts), DELETE SPIN_PATH ends them: the wrk control.
import { Elysia, t } from "elysia";
import { LAG_PATH, type ServerUsage, USAGE_PATH } from "./http-server.ts";
import { LagMonitor } from "./lag-monitor.ts";
import { serveUntilStopped } from "./server-lifecycle.ts";

/** Starts (POST, `?threads=N`) and ends (DELETE) the spinning threads of the wrk control. */
export const SPIN_PATH = "/__bench/spin";
const SPIN_WORKER = new URL("./spin-worker.ts", import.meta.url).href;

/** Starts `threads` spinning workers; resolves once each runs at its lowered priority. */
async function spin(threads: number): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(SPIN_WORKER);
    workers.push(worker);
    await new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
    });
  }
  return workers;
}

/** A task's JSON as kiln's presenter shapes it, with the same fields. */
export function taskJson(id: string, name: string, params: unknown) {
  const now = new Date().toISOString();
  return {
    id,
    name,
    status: "PENDING",
    statusReason: null,
    params: params ?? null,
    result: null,
    error: null,
    progress: null,
    attempt: 1,
    priority: 0,
    tags: [],
    requestedAction: null,
    createdAt: now,
    startTime: null,
    endTime: null,
    lastRunTime: null,
    runAt: null,
  };
}

/** The body both bare routes take: a task's name and its params, checked by TypeBox. */
export const CREATE_BODY = t.Object({ name: t.String({ minLength: 1 }), params: t.Optional(t.Unknown()) });

/** The bare `POST /tasks`: the body checked, a new task's JSON answered, nothing stored. */
export function bareCreateRoute() {
  return new Elysia().post(
    "/tasks",
    ({ body, set }) => {
      set.status = 201;
      return taskJson(Bun.randomUUIDv7(), body.name, body.params);
    },
    { body: CREATE_BODY },
  );
}

if (import.meta.main) {
  const lag = new LagMonitor().start();
  let spinning: Worker[] = [];
  const app = new Elysia()
    .use(bareCreateRoute())
    .get("/tasks/:id", ({ params }) => taskJson(params.id, "bench-noop", null))
    .get(USAGE_PATH, (): ServerUsage => {
      const cpu = process.cpuUsage();
      return {
        cpuMicros: cpu.user + cpu.system,
        running: 0,
        queued: 0,
        workers: 0,
        finished: -1,
        finishedEvents: 0,
        lastFinishedAt: 0,
        progressRows: 0,
        store: null,
      };
    })
    .get(LAG_PATH, () => lag.summary(true))
    .post(
      SPIN_PATH,
      async ({ query }) => {
        spinning.push(...(await spin(query.threads)));
        return { spinning: spinning.length };
      },
      { query: t.Object({ threads: t.Numeric({ minimum: 1, maximum: 64 }) }) },
    )
    .delete(SPIN_PATH, () => {
      for (const worker of spinning) worker.terminate();
      spinning = [];
      return { spinning: 0 };
    })
    .listen({ hostname: "127.0.0.1", port: 0 });
  await serveUntilStopped(app.server?.port, async () => {
    await app.stop();
  });
}
