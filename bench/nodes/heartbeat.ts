// What heartbeats cost. (1) The heartbeat statement itself, through the store's
// `cluster.heartbeat` as a node sends it, holding 0, 10 or 100 runs: latency, and CPU of the
// PostgreSQL backend serving it. (2) Whole idle nodes, as `kiln serve` runs them: two nodes at
// the default heartbeat (5 s) against two at 100 ms, the CPU of the node processes and of their
// backends, and the transactions per second the database counted.
import { hostname } from "node:os";
import type postgres from "postgres";
import { PostgresTaskStore } from "../../src/index.ts";
import { rawClient } from "../../tests/store/postgres/database.ts";
import { loadAverage, round } from "../util.ts";
import { cpuMsOf, cpuOf, DEFAULT_TIMINGS, withCluster, withDatabase } from "./common.ts";

export interface StatementFigures {
  round: number;
  held: number;
  load: number | null;
  beats: number;
  /** Per heartbeat, ms. */
  latencies: number[];
  /** CPU of the backend(s) serving the store, per heartbeat, ms. */
  backendCpuMsPerBeat: number;
}

/** Finished tasks beside the held ones: a heartbeat finds its rows among others, by id. */
const BACKGROUND_TASKS = 10_000;

async function backendPids(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}

export async function heartbeatStatements(
  rounds: number,
  heldCounts: number[],
  beats: number,
  onFigures: (figures: StatementFigures) => void,
): Promise<StatementFigures[]> {
  return withDatabase(async (url) => {
    const store = new PostgresTaskStore({ url });
    const sql = rawClient(url);
    try {
      await store.migrate();
      const node = {
        id: "bench/0000beef",
        name: "bench",
        host: hostname(),
        pid: process.pid,
        startedAt: Date.now(),
      };
      await store.cluster.registerNode(node, 100);
      const now = Date.now();
      await sql`INSERT INTO tasks (id, task_name, status, created_at, updated_at)
        SELECT 'bg-' || lpad(i::text, 6, '0'), 'bench-node-noop', 'FINISHED', ${now}, ${now}
        FROM generate_series(1, ${BACKGROUND_TASKS}) AS i`;
      const most = Math.max(...heldCounts);
      await sql`INSERT INTO tasks (id, task_name, status, created_at, updated_at, node_id, lease_epoch, lease_expires_at)
        SELECT 'run-' || lpad(i::text, 6, '0'), 'bench-node-noop', 'RUNNING', ${now}, ${now}, ${node.id}, 1, ${now + 60_000}
        FROM generate_series(1, ${most}) AS i`;
      await sql`ANALYZE tasks`;
      const results: StatementFigures[] = [];
      for (let r = 1; r <= rounds; r++) {
        for (const held of heldCounts) {
          const runs = Array.from({ length: held }, (_, i) => ({
            id: `run-${String(i + 1).padStart(6, "0")}`,
            epoch: 1,
          }));
          // Warm: the statement prepared, the pool's connection open.
          for (let i = 0; i < 20; i++) await store.cluster.heartbeat(node.id, held, runs, 15_000);
          const load = loadAverage();
          const pids = await backendPids(sql);
          const before = cpuOf(pids);
          const latencies: number[] = [];
          for (let i = 0; i < beats; i++) {
            const started = performance.now();
            const reply = await store.cluster.heartbeat(node.id, held, runs, 15_000);
            latencies.push(round(performance.now() - started, 3));
            if (!reply.registered || reply.renewed.size !== held)
              throw new Error(`a heartbeat renewed ${reply.renewed.size} of ${held} runs`);
          }
          const after = cpuOf(pids);
          const figures = {
            round: r,
            held,
            load,
            beats,
            latencies,
            backendCpuMsPerBeat: round(cpuMsOf(pids, before, after) / beats, 3),
          };
          results.push(figures);
          onFigures(figures);
        }
      }
      return results;
    } finally {
      await sql.end({ timeout: 5 });
      await store.close();
    }
  });
}

export interface IdleFigures {
  round: number;
  heartbeatMs: number;
  nodes: number;
  load: number | null;
  seconds: number;
  /** Per node, % of one core. */
  nodeCpuPercent: number;
  /** The node's PostgreSQL backends, per node, % of one core. */
  backendCpuPercent: number;
  /** Transactions the database counted, per node per second (heartbeats, claim polls, the leader's upkeep). */
  transactionsPerNodePerSecond: number;
}

async function transactions(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row?.n ?? 0);
}

export async function idleNodes(round_: number, heartbeatMs: number, windowMs: number): Promise<IdleFigures> {
  const nodes = 2;
  return withCluster(
    { nodes, concurrency: 2, lease: { ...DEFAULT_TIMINGS, heartbeatMs } },
    async (cluster) => {
      // Settled: start-up done, the leader elected, and the backends' counts reported.
      await Bun.sleep(3_000);
      const nodePids = cluster.nodes.map((node) => node.pid);
      const backends = (await Promise.all(cluster.nodes.map((node) => cluster.backendsOf(node)))).flat();
      const backendPids = backends.map((backend) => backend.pid);
      const load = loadAverage();
      const xactsBefore = await transactions(cluster.sql);
      const nodesBefore = cpuOf(nodePids);
      const backendsBefore = cpuOf(backendPids);
      const started = performance.now();
      await Bun.sleep(windowMs);
      const wall = performance.now() - started;
      const nodesAfter = cpuOf(nodePids);
      const backendsAfter = cpuOf(backendPids);
      const xacts = (await transactions(cluster.sql)) - xactsBefore;
      const percent = (ms: number) => round((ms / nodes / wall) * 100, 2);
      return {
        round: round_,
        heartbeatMs,
        nodes,
        load,
        seconds: round(wall / 1_000, 1),
        nodeCpuPercent: percent(cpuMsOf(nodePids, nodesBefore, nodesAfter)),
        backendCpuPercent: percent(cpuMsOf(backendPids, backendsBefore, backendsAfter)),
        transactionsPerNodePerSecond: round((xacts / nodes / wall) * 1_000, 2),
      };
    },
  );
}
