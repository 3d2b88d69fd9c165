// Scenario "history": kiln serving a database that already holds a long history — 1,000,000
// ended tasks (100,000 with --quick) with three history events each: exec → /ready, the latency
// of listing and reading tasks, and the size of the file.

import { existsSync, statSync } from "node:fs";
import { runBunChild } from "./child-run.ts";
import { COMMON_TAG, type GeneratedHistory, HISTORY_MIX, RARE_TAG } from "./history-rows.ts";
import { type LoadFigures, load, loadRow, randomTaskOf } from "./http-client.ts";
import { STALL_MS } from "./lag-monitor.ts";
import { BINARY, CLI_SOURCE, MONITORED_CLI, ServeProcess } from "./serve-process.ts";
import {
  type BenchOptions,
  median,
  mib,
  type Row,
  round,
  type Scenario,
  type ScenarioResult,
  tempDir,
} from "./util.ts";

const GENERATOR = Bun.fileURLToPath(new URL("./history-rows.ts", import.meta.url));
/** Random tasks GET /tasks/:id reads. */
const SAMPLE_IDS = 1_000;
/** The aim for every query at 1M tasks: p99 and the longest event-loop stall. */
const AIM_MS = 10;

async function generate(path: string, rows: number): Promise<GeneratedHistory> {
  const { code, err, lastLine } = await runBunChild([GENERATOR, path, String(rows), String(SAMPLE_IDS)]);
  if (code !== 0) throw new Error(`generating the history failed (exit ${code}): ${err.trim()}`);
  return JSON.parse(lastLine ?? "") as GeneratedHistory;
}

function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Every list filter the API has, at the largest page, and the summary routes. */
function queries(ids: string[], middle: string): [label: string, next: () => { path: string }][] {
  const path = (p: string) => () => ({ path: p });
  return [
    ["GET /tasks?limit=50 (the default page)", path("/tasks?limit=50")],
    ["GET /tasks?limit=500", path("/tasks?limit=500")],
    ["GET /tasks?status=FINISHED&limit=500", path("/tasks?status=FINISHED&limit=500")],
    ["GET /tasks?status=FAILED&limit=500 (1%)", path("/tasks?status=FAILED&limit=500")],
    ["GET /tasks?status=RUNNING&limit=500 (none)", path("/tasks?status=RUNNING&limit=500")],
    ["GET /tasks?name=walk-directory&limit=500 (10%)", path("/tasks?name=walk-directory&limit=500")],
    [
      "GET /tasks?status=FINISHED&name=walk-directory&limit=500",
      path("/tasks?status=FINISHED&name=walk-directory&limit=500"),
    ],
    [
      "GET /tasks?status=FAILED&name=walk-directory&limit=500 (no match)",
      path("/tasks?status=FAILED&name=walk-directory&limit=500"),
    ],
    [`GET /tasks?tag=${COMMON_TAG}&limit=500 (10%)`, path(`/tasks?tag=${COMMON_TAG}&limit=500`)],
    [`GET /tasks?tag=${RARE_TAG}&limit=500 (0.1%)`, path(`/tasks?tag=${RARE_TAG}&limit=500`)],
    ["GET /tasks?tag=unused&limit=500 (no match)", path("/tasks?tag=unused&limit=500")],
    [
      "GET /tasks?status=FINISHED&limit=500&cursor=<middle>",
      path(`/tasks?status=FINISHED&limit=500&cursor=${middle}`),
    ],
    ["GET /tasks/:id (random)", randomTaskOf(ids)],
    ["GET /stats", path("/stats")],
    ["GET /metrics", path("/metrics")],
  ];
}

/** The start-up work that follows /ready is over: the first count of tasks (what /stats waits for). */
async function settle(server: ServeProcess, ms: number): Promise<void> {
  for (const route of ["/stats", "/metrics"]) {
    const response = await fetch(`${server.base}${route}`);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${route} answered ${response.status} while settling`);
  }
  await Bun.sleep(ms);
}

export const history: Scenario = {
  name: "history",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const rows = options.quick ? 100_000 : 1_000_000;
    const launches = options.quick ? 2 : 3;
    const ms = options.quick ? 300 : 1_500;
    const warmupMs = options.quick ? 100 : 250;
    const settleMs = options.quick ? 300 : 2_000;
    const useBinary = existsSync(BINARY);
    const command = useBinary ? [BINARY] : [process.execPath, CLI_SOURCE];
    const tmp = tempDir("history");
    try {
      const { db: generated, ids, middle } = await generate(tmp.db, rows);
      if (ids.length === 0 || !middle) throw new Error("the generated database has no tasks");

      const readyMs: number[] = [];
      const exitMs: number[] = [];
      const phases: LoadFigures[] = [];
      for (let i = 0; i < launches; i++) {
        const launched = await ServeProcess.launch(command, tmp.db, "/ready");
        readyMs.push(round(launched.firstOkMs, 1));
        exitMs.push(round(await launched.stop(), 1));
      }
      // The latency phases: kiln serve from source with the lag monitor preloaded on its main thread.
      const server = await ServeProcess.launch(MONITORED_CLI, tmp.db, "/ready");
      try {
        await settle(server, settleMs);
        for (const [label, next] of queries(ids, middle)) {
          phases.push(await load(server, { label, concurrency: 1, warmupMs, ms, next, expect: 200 }));
        }
      } finally {
        await server.stop();
      }

      const dbBytes = fileBytes(tmp.db);
      const walBytes = fileBytes(`${tmp.db}-wal`);
      const facts: Row[] = [
        {
          figure: "tasks in the database",
          value: `${rows} (${Object.entries(generated.byStatus)
            .map(([s, n]) => `${n} ${s}`)
            .join(", ")})`,
        },
        { figure: "history events", value: generated.events },
        { figure: "database file MiB (+ WAL MiB)", value: `${mib(dbBytes)} (+ ${mib(walBytes)})` },
        { figure: "bytes per task (file / tasks, events included)", value: round(dbBytes / rows, 0) },
        { figure: `exec → 200 /ready, median of ${launches} ms`, value: round(median(readyMs), 1) },
        { figure: "exec → 200 /ready, each launch ms", value: readyMs.join(", ") },
        { figure: "SIGTERM → exit median ms", value: round(median(exitMs), 1) },
        { figure: "rows generated in ms (bulk SQL, not through kiln)", value: generated.generateMs },
      ];
      const over = phases.filter((p) => p.latencyMs.p99 > AIM_MS || (p.lag?.maxMs ?? 0) > AIM_MS);
      const worst = [...over]
        .sort(
          (a, b) =>
            Math.max(b.latencyMs.p99, b.lag?.maxMs ?? 0) - Math.max(a.latencyMs.p99, a.lag?.maxMs ?? 0),
        )
        .slice(0, 4)
        .map((p) => `${p.path}: p99 ${p.latencyMs.p99} ms, stall ${p.lag?.maxMs ?? "?"} ms`);
      const lagKnown = phases.every((p) => p.lag !== null);
      const listP99 = phases[1]?.latencyMs.p99;
      return {
        name: "history",
        headlines: [
          {
            what: `every query at ${rows.toLocaleString("en-US")} tasks (list filters at limit=500, /stats, /metrics): p99, and event-loop stalls meanwhile`,
            aim: `p99 ≤ ${AIM_MS} ms, no stall over ${AIM_MS} ms${options.quick ? " (at 1,000,000 tasks)" : ""}`,
            measured:
              over.length === 0
                ? `all ${phases.length} within (worst p99 ${Math.max(...phases.map((p) => p.latencyMs.p99))} ms)`
                : `${over.length} of ${phases.length} over: ${worst.join("; ")}`,
            met: options.quick || !lagKnown ? null : over.length === 0,
          },
          {
            what: `${rows.toLocaleString("en-US")} ended tasks: list p99 (limit=500), exec → ready, database size`,
            aim: "-",
            measured: `${listP99 ?? "-"} ms, ${round(median(readyMs), 0)} ms, ${mib(dbBytes)} MiB`,
            met: null,
          },
        ],
        tables: [
          {
            title: `history: kiln on a database with ${rows.toLocaleString("en-US")} ended tasks`,
            rows: facts,
          },
          {
            title: "history: API latency on that database, after start-up settled (1 request in flight)",
            rows: phases.map(loadRow),
          },
        ],
        lag: phases
          .filter((p) => p.lag !== null)
          .sort((a, b) => (b.lag?.maxMs ?? 0) - (a.lag?.maxMs ?? 0))
          .slice(0, 1)
          .flatMap((p) => (p.lag ? [{ where: `server, worst query phase (${p.path})`, lag: p.lag }] : [])),
        figures: {
          rows,
          quick: options.quick,
          generated,
          dbBytes,
          walBytes,
          command: command.join(" "),
          readyMs,
          medianReadyMs: round(median(readyMs), 1),
          exitMs,
          listP99Ms: listP99 ?? null,
          latency: phases,
        },
        notes: [
          `${options.quick ? `--quick: ${rows.toLocaleString("en-US")} rows instead of 1,000,000. ` : ""}The database was made by kiln's own migration and then filled with SQL (INSERT … SELECT over a counter) in id order: ${HISTORY_MIX}, each with its params, result (or error) and 3 history events (create, start, end). Generation is not part of any figure.`,
          `Start-up: ${useBinary ? "dist/kiln" : "bun src/cli/main.ts (dist/kiln not built)"} serve on that file (default concurrency), launched ${launches} times in a row; exec → ready polls /ready every ~2 ms (ready = migrations checked, active tasks restored).`,
          `Latencies: one more launch, from source with an event-loop lag monitor preloaded on the server's main thread (a compiled binary takes no preload). After /ready, one /stats (it waits for the first count of tasks) and one /metrics, then ${settleMs} ms, so start-up's own work is over; then each query one request at a time for ${ms} ms after ${warmupMs} ms unrecorded. 'server event loop' is the server's lag during that query's phase (p99 / max of a 5 ms timer; a stall over ${STALL_MS} ms is counted).`,
          "'other CPU %' is everything else on the machine; the server's CPU is read from /proc.",
        ],
      };
    } finally {
      tmp.cleanup();
    }
  },
};
