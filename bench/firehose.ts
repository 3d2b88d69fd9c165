// Scenario "firehose": 100 tasks (20 with --quick) each calling progress() as fast as they can,
// together, for a fixed window: how many updates kiln absorbs, how many database writes they
// become, and what happens meanwhile to the latency of GET /tasks/:id. The server runs in a child
// process (http-server.ts).
import { HOST, type LoadFigures, load, loadRow, Server, type TaskBody, waitForUsage } from "./http-client.ts";
import type { ServerUsage } from "./http-server.ts";
import type { FirehoseResult } from "./tasks.ts";
import {
  type BenchOptions,
  cpuPercent,
  mib,
  processRssBytes,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
} from "./util.ts";

/** Tasks firing at once (each on a worker of its own); --quick uses fewer. */
const TASKS = 100;
const QUICK_TASKS = 20;
/** Time between the creates and the common start, for every task to be on its (warm) worker. */
const START_ALLOWANCE_MS = 2_000;
/** A task whose loop began later than this after the common start is counted as late. */
const LATE_MS = 100;
/** The latency probe keeps off the first and last moments of the window. */
const PROBE_MARGIN_MS = 250;

interface Window {
  ms: number;
  before: ServerUsage;
  after: ServerUsage;
}

function writes(window: Window) {
  const calls = (u: ServerUsage, method: string) => u.store?.byMethod[method]?.calls ?? 0;
  const storeCalls = (u: ServerUsage) =>
    Object.values(u.store?.byMethod ?? {}).reduce((sum, entry) => sum + entry.calls, 0);
  const perSec = (value: number) => round((value / window.ms) * 1000, 0);
  const telemetryTx = calls(window.after, "writeTelemetry") - calls(window.before, "writeTelemetry");
  const progressRows = window.after.progressRows - window.before.progressRows;
  return {
    telemetryTransactions: telemetryTx,
    telemetryTransactionsPerSec: perSec(telemetryTx),
    progressRows,
    progressRowsPerSec: perSec(progressRows),
    storeCalls: storeCalls(window.after) - storeCalls(window.before),
    storeCallsPerSec: perSec(storeCalls(window.after) - storeCalls(window.before)),
    serverCpuPercent: cpuPercent((window.after.cpuMicros - window.before.cpuMicros) / 1000, window.ms),
  };
}

export const firehose: Scenario = {
  name: "firehose",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const taskCount = options.quick ? QUICK_TASKS : TASKS;
    const durationMs = options.quick ? 2_000 : 10_000;
    const idleMs = options.quick ? 500 : 2_000;

    const measured = await Server.with({ concurrency: taskCount, countWrites: true }, async (server) => {
      // Warm-up: one short task per worker, all held until a common moment so that each lands on a
      // worker of its own; once all have finished, every worker has started and imported the task
      // module (on a small machine, spawning 100 workers takes seconds, which must not eat the window).
      const warm0 = performance.now();
      const warmAt = Date.now() + 500;
      for (let i = 0; i < taskCount; i++)
        await server.create("bench-firehose", { startAt: warmAt, durationMs: 1 });
      await waitForUsage(server, (u) => u.finishedEvents >= taskCount, 120_000, "the warm-up tasks", 50);
      const warmupMs = performance.now() - warm0;
      const probeId = await server.create("bench-noop");
      await waitForUsage(server, (u) => u.finishedEvents >= taskCount + 1, 30_000, "the probe task");
      const probe = { path: `/tasks/${probeId}` };
      const idle = await load(server, {
        label: `GET /tasks/:id (idle, ${taskCount} idle workers)`,
        concurrency: 1,
        warmupMs: 250,
        ms: idleMs,
        next: () => probe,
        expect: 200,
      });

      const startAt = Date.now() + START_ALLOWANCE_MS;
      const ids: string[] = [];
      for (let i = 0; i < taskCount; i++)
        ids.push(await server.create("bench-firehose", { startAt, durationMs }));
      await Bun.sleep(Math.max(0, startAt - Date.now()));
      const before = await server.usage();
      const t0 = performance.now();
      const watched = { path: `/tasks/${ids[0]}` };
      await Bun.sleep(PROBE_MARGIN_MS);
      const during = await load(server, {
        label: `GET /tasks/:id (${taskCount} tasks firing progress)`,
        concurrency: 1,
        warmupMs: 0,
        ms: durationMs - 2 * PROBE_MARGIN_MS,
        next: () => watched,
        expect: 200,
      });
      await Bun.sleep(Math.max(0, durationMs - (performance.now() - t0)));
      const after = await server.usage();
      const windowMs = performance.now() - t0;
      const rssBytes = processRssBytes(server.process.pid);
      const finish0 = performance.now();
      await waitForUsage(
        server,
        (u) => u.finishedEvents >= 2 * taskCount + 1,
        durationMs + 120_000,
        "the firehose tasks to finish",
        50,
      );
      const finishMs = performance.now() - finish0;
      const tasks: { result: FirehoseResult | null; lastProgress: number | null }[] = [];
      for (const id of ids) {
        const { body } = await server.json<TaskBody & { progress: { done: number } | null }>(`/tasks/${id}`);
        tasks.push({
          result: (body.result as FirehoseResult | null) ?? null,
          lastProgress: body.progress?.done ?? null,
        });
      }
      return {
        idle,
        during,
        window: { ms: windowMs, before, after },
        tasks,
        rssBytes,
        warmupMs,
        finishMs,
        startAt,
      };
    });

    const { idle, during, window, tasks, rssBytes, warmupMs, finishMs, startAt } = measured;
    const results = tasks.flatMap((t) => (t.result ? [t.result] : []));
    const calls = results.reduce((sum, r) => sum + r.calls, 0);
    const firstStart = Math.min(...results.map((r) => r.startedAt));
    const lastEnd = Math.max(...results.map((r) => r.startedAt + r.ms));
    const spanMs = lastEnd - firstStart;
    const callsPerSec = round((calls / spanMs) * 1000, 0);
    const lateness = results.map((r) => r.startedAt - startAt);
    const late = lateness.filter((ms) => ms > LATE_MS).length;
    const w = writes(window);
    const persisted = tasks.filter((t) => t.result && t.lastProgress === t.result.calls).length;
    const p99Ratio = round(during.latencyMs.p99 / idle.latencyMs.p99, 2);
    const summary: Row[] = [
      { figure: `progress() calls absorbed, ${taskCount} tasks × ${durationMs / 1000} s`, value: calls },
      {
        figure: "progress() calls absorbed per second (all tasks, first start → last end)",
        value: callsPerSec,
      },
      { figure: "database write transactions per second (telemetry)", value: w.telemetryTransactionsPerSec },
      { figure: "progress rows written per second", value: w.progressRowsPerSec },
      { figure: "store calls per second (all methods)", value: w.storeCallsPerSec },
      {
        figure: "progress() calls per progress row written",
        value: round(calls / Math.max(1, w.progressRows), 0),
      },
      { figure: "tasks whose last progress value is in the database", value: `${persisted} of ${taskCount}` },
      {
        figure: `tasks whose loop began > ${LATE_MS} ms after the common start`,
        value: `${late} of ${taskCount} (latest +${Math.max(...lateness)} ms)`,
      },
      { figure: "last task's FINISHED after the window ended, ms", value: round(finishMs, 0) },
      { figure: `warm-up: ${taskCount} workers started and ran a task, ms`, value: round(warmupMs, 0) },
      { figure: "server CPU % over the window (all threads)", value: w.serverCpuPercent },
      { figure: "server RSS at the end of the window, MiB", value: rssBytes === null ? "-" : mib(rssBytes) },
      {
        figure: "GET /tasks/:id p99 ms, firing / idle",
        value: `${during.latencyMs.p99} / ${idle.latencyMs.p99} (× ${p99Ratio})`,
      },
    ];
    return {
      name: "firehose",
      headlines: [
        {
          what: `firehose, ${taskCount} tasks: progress() calls absorbed/s, DB write transactions/s, API p99 ÷ idle`,
          aim: "-",
          measured: `${callsPerSec.toLocaleString("en-US")}/s, ${w.telemetryTransactionsPerSec}/s, × ${p99Ratio}`,
          met: null,
        },
      ],
      tables: [
        {
          title: `firehose: ${taskCount} tasks calling progress() flat out for ${durationMs / 1000} s`,
          rows: summary,
        },
        { title: "firehose: API latency (1 request in flight)", rows: [idle, during].map(loadRow) },
      ],
      lag: [
        { where: "server, idle", lag: idle.lag },
        { where: `server, ${taskCount} tasks firing`, lag: during.lag },
      ].flatMap((entry) => (entry.lag ? [{ where: entry.where, lag: entry.lag }] : [])),
      figures: {
        tasks: taskCount,
        durationMs,
        calls,
        callsPerSec,
        writes: w,
        windowMs: round(window.ms, 1),
        persistedLastProgress: persisted,
        spanMs: round(spanMs, 1),
        lateStarts: late,
        maxLatenessMs: Math.max(...lateness),
        finishAfterWindowMs: round(finishMs, 0),
        warmupMs: round(warmupMs, 0),
        serverRssMiB: rssBytes === null ? null : mib(rssBytes),
        perTask: results,
        latency: { idle, during, p99Ratio } satisfies {
          idle: LoadFigures;
          during: LoadFigures;
          p99Ratio: number;
        },
      },
      notes: [
        `A server in a child process on ${HOST} (TaskManager concurrency ${taskCount}, so every task has a worker thread of its own, on ${navigator.hardwareConcurrency} logical CPUs; store calls counted), its ${taskCount} workers warmed first by one short task each. ${taskCount} bench-firehose tasks were then created with a common start ${START_ALLOWANCE_MS} ms ahead; from it each calls progress(n) in a tight loop with a checkpoint every 1,024 calls, for ${durationMs} ms.`,
        "Where the updates go: the worker keeps only the latest value and posts it to the main thread at most every 50 ms; the main thread buffers the latest per task and writes them all in one transaction every 100 ms (telemetryIntervalMs). 'progress rows written' counts the rows those transactions updated.",
        `The latency probe reads the first firehose task's row (its progress changing under it), one request at a time, from ${PROBE_MARGIN_MS} ms into the window to ${PROBE_MARGIN_MS} ms before its end; idle = the same server before the tasks, reading a finished task.`,
        `Writes and CPU are taken between the common start and ${round(window.ms, 0)} ms later from the server's counters.`,
        ...(options.quick
          ? [`--quick: ${taskCount} tasks for ${durationMs / 1000} s instead of ${TASKS} for 10 s.`]
          : []),
      ],
    };
  },
};
