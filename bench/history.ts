// Scenario "history": kiln serving a database that already holds a long history — 1,000,000
// ended tasks (100,000 with --quick) with three history events each: exec → /ready, the latency
// of listing and reading tasks, and the size of the file.

import { existsSync, statSync } from "node:fs";
import { runBunChild } from "./child-run.ts";
import { type GeneratedHistory, HISTORY_MIX } from "./history-rows.ts";
import { type LoadFigures, load, loadRow } from "./http-client.ts";
import { BINARY, CLI_SOURCE, ServeProcess } from "./serve-process.ts";
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
/** /metrics counts every row: a few requests are enough to see what one costs. */
const METRICS_REQUESTS = 5;

async function generate(path: string, rows: number): Promise<GeneratedHistory> {
  const { code, err, lastLine } = await runBunChild([GENERATOR, path, String(rows), String(SAMPLE_IDS)]);
  if (code !== 0) throw new Error(`generating the history failed (exit ${code}): ${err.trim()}`);
  return JSON.parse(lastLine ?? "") as GeneratedHistory;
}

function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

export const history: Scenario = {
  name: "history",
  async run(options: BenchOptions): Promise<ScenarioResult> {
    const rows = options.quick ? 100_000 : 1_000_000;
    const launches = options.quick ? 2 : 3;
    const ms = options.quick ? 300 : 1_500;
    const warmupMs = options.quick ? 100 : 250;
    const useBinary = existsSync(BINARY);
    const command = useBinary ? [BINARY] : [process.execPath, CLI_SOURCE];
    const tmp = tempDir("history");
    try {
      const { db: generated, ids, middle } = await generate(tmp.db, rows);
      if (ids.length === 0 || !middle) throw new Error("the generated database has no tasks");

      const readyMs: number[] = [];
      const exitMs: number[] = [];
      let server: ServeProcess | undefined;
      const phases: LoadFigures[] = [];
      try {
        for (let i = 0; i < launches; i++) {
          server = await ServeProcess.launch(command, tmp.db, "/ready");
          readyMs.push(round(server.firstOkMs, 1));
          if (i < launches - 1) exitMs.push(round(await server.stop(), 1));
        }
        if (!server) throw new Error("no launch");
        const target = server;
        const phase = async (label: string, next: () => { path: string }, max?: number) =>
          phases.push(
            await load(target, {
              label,
              concurrency: 1,
              warmupMs: max === undefined ? warmupMs : 0,
              ms: max === undefined ? ms : 60_000,
              ...(max === undefined ? {} : { maxRequests: max }),
              next,
              expect: 200,
            }),
          );
        await phase("GET /tasks?status=FINISHED&limit=50", () => ({
          path: "/tasks?status=FINISHED&limit=50",
        }));
        await phase("GET /tasks?status=FAILED&limit=50", () => ({ path: "/tasks?status=FAILED&limit=50" }));
        await phase("GET /tasks?status=RUNNING&limit=50 (none)", () => ({
          path: "/tasks?status=RUNNING&limit=50",
        }));
        await phase("GET /tasks?limit=50", () => ({ path: "/tasks?limit=50" }));
        await phase("GET /tasks?status=FINISHED&limit=50&cursor=<middle>", () => ({
          path: `/tasks?status=FINISHED&limit=50&cursor=${middle}`,
        }));
        await phase("GET /tasks?name=walk-directory&limit=50", () => ({
          path: "/tasks?name=walk-directory&limit=50",
        }));
        await phase("GET /tasks/:id (random)", () => ({
          path: `/tasks/${ids[Math.floor(Math.random() * ids.length)]}`,
        }));
        await phase("GET /metrics", () => ({ path: "/metrics" }), METRICS_REQUESTS);
      } finally {
        if (server) exitMs.push(round(await server.stop(), 1));
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
      const listP99 = phases[0]?.latencyMs.p99;
      return {
        name: "history",
        headlines: [
          {
            what: `${rows.toLocaleString("en-US")} ended tasks: list p99, exec → ready, database size`,
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
          { title: "history: API latency on that database (1 request in flight)", rows: phases.map(loadRow) },
        ],
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
          listFinishedP99Ms: listP99 ?? null,
          latency: phases,
        },
        notes: [
          `${options.quick ? `--quick: ${rows.toLocaleString("en-US")} rows instead of 1,000,000. ` : ""}The database was made by kiln's own migration and then filled with SQL (INSERT … SELECT over a counter) in id order: ${HISTORY_MIX}, each with its params, result (or error) and 3 history events (create, start, end). Generation is not part of any figure.`,
          `Server: ${useBinary ? "dist/kiln" : "bun src/cli/main.ts (dist/kiln not built)"} serve on that file (default concurrency), launched ${launches} times in a row; exec → ready polls /ready every ~2 ms (ready = migrations checked, active tasks restored). Latencies from the last launch, one request at a time for ${ms} ms each after ${warmupMs} ms unrecorded; /metrics ${METRICS_REQUESTS} requests (it counts tasks by status and name).`,
          "'other CPU %' is everything else on the machine; the server's CPU is read from /proc.",
        ],
      };
    } finally {
      tmp.cleanup();
    }
  },
};
