// What the several-nodes figures share: a cluster of real `kiln serve` processes on a database
// of its own (created for the run, dropped after), and CPU readings of processes from /proc.
import { readdirSync, readFileSync } from "node:fs";
import { Cluster, type ClusterOptions } from "../../tests/cluster/harness.ts";
import { createDatabase, dropDatabase, pgUrl } from "../peers/postgres.ts";
import { processCpuMicros, type Row } from "../util.ts";

/** The sizes of a run of bench/nodes.ts. */
export interface NodesArgs {
  /** Interleaved rounds of the throughput and heartbeat-statement figures. */
  rounds: number;
  /** SIGKILL trials for each timing. */
  trials: number;
  /** Tasks per throughput run. */
  tasks: number;
}

/** What one part of bench/nodes.ts measured: its tables, notes, and every figure for the JSON. */
export interface NodesPart {
  tables: { title: string; rows: Row[] }[];
  notes: string[];
  figures: unknown;
}

/** The bench's task files: `bench-node-noop` and the cluster tests' `steps`. */
export const NODES_TASKS_DIR = new URL("../nodes-tasks/", import.meta.url).pathname;

/** The default timings of `kiln serve` (README "Running several nodes"). */
export const DEFAULT_TIMINGS = { leaseMs: 15_000, heartbeatMs: 5_000, rescueMs: 5_000, claimPollMs: 1_000 };

/** Runs `body` on a fresh cluster on a fresh database; both are gone afterwards, whatever happens. */
export async function withCluster<T>(
  options: ClusterOptions,
  body: (cluster: Cluster) => Promise<T>,
): Promise<T> {
  const database = `kiln_nodes_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await createDatabase(database);
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start(pgUrl(database), { tasksDir: NODES_TASKS_DIR, ...options });
    return await body(cluster);
  } finally {
    await cluster?.close();
    await dropDatabase(database);
  }
}

/** A fresh database for `body`, dropped afterwards. */
export async function withDatabase<T>(body: (url: string) => Promise<T>): Promise<T> {
  const database = `kiln_nodes_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await createDatabase(database);
  try {
    return await body(pgUrl(database));
  } finally {
    await dropDatabase(database);
  }
}

/** CPU (µs) of every `postgres` process now, by pid: the server's backends and its own workers. */
export function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "postgres") continue;
    } catch {
      continue;
    }
    const micros = processCpuMicros(Number(entry));
    if (micros !== null) cpu.set(Number(entry), micros);
  }
  return cpu;
}

/**
 * CPU ms the postgres processes spent between two readings; a process that started meanwhile
 * counts from zero. A backend that ended meanwhile is lost: the nodes' pools keep theirs open.
 */
export function postgresCpuMs(before: Map<number, number>, after: Map<number, number>): number {
  let micros = 0;
  for (const [pid, now] of after) micros += now - (before.get(pid) ?? 0);
  return micros / 1_000;
}

/** CPU ms of the given pids between two readings (µs maps). */
export function cpuMsOf(pids: number[], before: Map<number, number>, after: Map<number, number>): number {
  let micros = 0;
  for (const pid of pids) micros += (after.get(pid) ?? 0) - (before.get(pid) ?? 0);
  return micros / 1_000;
}

/** CPU (µs) of the given pids now. */
export function cpuOf(pids: number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) cpu.set(pid, processCpuMicros(pid) ?? 0);
  return cpu;
}

/** The bench process's own CPU in ms (it submits and polls: it shares the 2 cores too). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

/** "1.2–3.4": the range of values, for a table cell. */
export function spread(values: number[], digits = 0): string {
  if (values.length === 0) return "-";
  const f = (v: number) => v.toFixed(digits);
  return `${f(Math.min(...values))}–${f(Math.max(...values))}`;
}
