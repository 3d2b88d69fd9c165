// Throughput of 1, 2 and 3 nodes on one PostgreSQL: trivial tasks created through every node
// (round robin, a fixed number of requests in flight in all), timed from the first request to
// the last task FINISHED, with the CPU the nodes, the PostgreSQL server and this process spent.
import type postgres from "postgres";
import { api, type ClusterNode } from "../../tests/cluster/harness.ts";
import { loadAverage, machineBusyMs, round } from "../util.ts";
import {
  cpuMsOf,
  cpuOf,
  DEFAULT_TIMINGS,
  ownCpuMs,
  postgresCpu,
  postgresCpuMs,
  withCluster,
} from "./common.ts";

export interface ThroughputRun {
  round: number;
  nodes: number;
  tasks: number;
  load: number | null;
  /** First request → last request answered. */
  submitMs: number;
  /** First request → every task FINISHED. */
  totalMs: number;
  tasksPerSecond: number;
  /** CPU ms over the run: all node processes, the postgres processes, this process, the machine. */
  nodesCpuMs: number;
  postgresCpuMs: number;
  benchCpuMs: number;
  machineBusyMs: number | null;
  /**
   * Transactions committed or rolled back in the database per task (pg_stat_database, which
   * backends report at most once a second: read after a pause, and approximate).
   */
  transactionsPerTask: number;
  /** "task finished" log lines per node: who did the work. */
  finishedPerNode: number[];
}

export interface ThroughputOptions {
  tasks: number;
  concurrency: number;
  inFlight: number;
}

const WARM_UP_PER_NODE = 100;

/** How long backends take to report their counts to pg_stat_database (PostgreSQL 15: ≤ 1 s when busy). */
const STATS_FLUSH_MS = 1_500;

async function transactions(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row?.n ?? 0);
}

/** Creates `count` no-op tasks, round robin over `urls`, `inFlight` requests at a time. */
async function submit(urls: string[], count: number, inFlight: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const url = urls[i % urls.length] ?? "";
      const created = await api(`${url}/tasks`, { json: { name: "bench-node-noop", params: {} } });
      if (created.status !== 201)
        throw new Error(`POST /tasks on ${url}: ${created.status} ${JSON.stringify(created.body)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** Polls the database until `count` tasks are FINISHED. */
async function waitFinished(sql: postgres.Sql, count: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const [row] = await sql<{ done: string }[]>`SELECT count(*) AS done FROM tasks WHERE status = 'FINISHED'`;
    if (Number(row?.done) >= count) return;
    if (Date.now() > deadline) throw new Error(`${row?.done} of ${count} tasks FINISHED after 600 s`);
    await Bun.sleep(25);
  }
}

/** The node's "task finished" log lines so far. */
function finishedLines(node: ClusterNode): number {
  return node.server.lines.filter((line) => line.includes('"msg":"task finished"')).length;
}

export async function throughputRun(
  round_: number,
  nodes: number,
  options: ThroughputOptions,
): Promise<ThroughputRun> {
  return withCluster({ nodes, concurrency: options.concurrency, lease: DEFAULT_TIMINGS }, async (cluster) => {
    const urls = cluster.nodes.map((node) => node.url);
    const pids = cluster.nodes.map((node) => node.pid);
    // Each node warmed up first (its JIT, its pools), the way a serving node is.
    const warm = WARM_UP_PER_NODE * urls.length;
    await submit(urls, warm, options.inFlight);
    await waitFinished(cluster.sql, warm);
    await Bun.sleep(STATS_FLUSH_MS);
    const finishedBefore = cluster.nodes.map(finishedLines);
    const xactsBefore = await transactions(cluster.sql);
    const load = loadAverage();
    const nodesBefore = cpuOf(pids);
    const pgBefore = postgresCpu();
    const ownBefore = ownCpuMs();
    const busyBefore = machineBusyMs();
    const started = performance.now();
    let submitMs = Number.NaN;
    const submitting = submit(urls, options.tasks, options.inFlight).then(() => {
      submitMs = performance.now() - started;
    });
    await waitFinished(cluster.sql, warm + options.tasks);
    const totalMs = performance.now() - started;
    await submitting;
    const nodesAfter = cpuOf(pids);
    const pgAfter = postgresCpu();
    const busyAfter = machineBusyMs();
    await Bun.sleep(STATS_FLUSH_MS);
    const xacts = (await transactions(cluster.sql)) - xactsBefore;
    const [failed] = await cluster.sql<
      { n: string }[]
    >`SELECT count(*) AS n FROM tasks WHERE status <> 'FINISHED'`;
    if (Number(failed?.n) > 0) throw new Error(`${failed?.n} tasks not FINISHED`);
    return {
      round: round_,
      nodes,
      tasks: options.tasks,
      load,
      submitMs: round(submitMs, 0),
      totalMs: round(totalMs, 0),
      tasksPerSecond: round((options.tasks / totalMs) * 1_000, 0),
      nodesCpuMs: round(cpuMsOf(pids, nodesBefore, nodesAfter), 0),
      postgresCpuMs: round(postgresCpuMs(pgBefore, pgAfter), 0),
      benchCpuMs: round(ownCpuMs() - ownBefore, 0),
      machineBusyMs: busyBefore === null || busyAfter === null ? null : busyAfter - busyBefore,
      transactionsPerTask: round(xacts / options.tasks, 1),
      finishedPerNode: cluster.nodes.map((node, i) => finishedLines(node) - (finishedBefore[i] ?? 0)),
    };
  });
}
