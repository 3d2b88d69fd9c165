// Cross-node pause latency: two nodes, `steps` tasks checkpointing every 20 ms; a task running
// on node B is paused through node A, and the time from the request to PAUSED in the database is
// taken (polled every 5 ms). Blocks alternate between three ways: NOTIFY as it is; B's LISTEN
// backend ended again and again, as tests/cluster/4-cross-node-pause.test.ts does (B listens
// anew within milliseconds, and beats at once after each reconnect: that beat carries the
// request); and B's LISTEN backend frozen (SIGSTOP of that one PostgreSQL backend, SIGCONT after
// the block), so that the request reaches B only in the reply to its periodic heartbeat.
import type { Cluster, ClusterNode, LeaseSettings } from "../../tests/cluster/harness.ts";
import { loadAverage, round } from "../util.ts";
import { withCluster } from "./common.ts";

export type PauseMode = "notify" | "listen ended" | "listen frozen";

export interface PauseBlock {
  mode: PauseMode;
  block: number;
  load: number | null;
  /** Request sent → PAUSED committed, ms. */
  latencies: number[];
  /** LISTEN backends of B ended (or frozen) during the block. */
  listenCut: number;
}

export const PAUSE_LEASE: LeaseSettings = {
  leaseMs: 3_000,
  heartbeatMs: 1_000,
  rescueMs: 1_000,
  claimPollMs: 200,
};
export const PAUSE_STEP_MS = 20;
const POLL_MS = 5;

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await Bun.sleep(POLL_MS);
  }
}

/** A task RUNNING on node `nodeId` that has recorded a step in the last 200 ms. */
async function taskRunningOn(cluster: Cluster, nodeId: string): Promise<string> {
  return waitFor(
    async () => {
      const [row] = await cluster.sql<{ id: string }[]>`
        SELECT id FROM tasks WHERE status = 'RUNNING' AND node_id = ${nodeId} ORDER BY random() LIMIT 1`;
      if (!row) return undefined;
      const [step] = await cluster.sql<{ at: string }[]>`
        SELECT max(at_ms) AS at FROM cluster_steps WHERE task_id = ${row.id}`;
      return Date.now() - Number(step?.at ?? 0) < 200 ? row.id : undefined;
    },
    30_000,
    `no task RUNNING and stepping on ${nodeId}`,
  );
}

async function status(cluster: Cluster, id: string): Promise<string | undefined> {
  const [row] = await cluster.sql<{ status: string }[]>`SELECT status FROM tasks WHERE id = ${id}`;
  return row?.status;
}

/**
 * One pause through `a` of a task running on `b`, after a random wait of up to `jitterMs`;
 * resumes it afterwards. Without NOTIFY the jitter must span a heartbeat: a task is claimed
 * again at a fixed phase of B's timers, so pauses sent at once would all wait the same time.
 */
async function pauseOnce(cluster: Cluster, a: ClusterNode, bId: string, jitterMs: number): Promise<number> {
  const id = await taskRunningOn(cluster, bId);
  await Bun.sleep(Math.random() * jitterMs);
  const asked = performance.now();
  const answer = await cluster.control(id, "pause", a);
  if (answer.status !== 200 && answer.status !== 202)
    throw new Error(`pause of ${id} through ${a}: ${answer.status} ${JSON.stringify(answer.body)}`);
  await waitFor(
    async () => ((await status(cluster, id)) === "PAUSED" ? true : undefined),
    30_000,
    `task ${id} not PAUSED`,
  );
  const took = performance.now() - asked;
  const resumed = await cluster.control(id, "resume", a);
  if (resumed.status !== 200)
    throw new Error(`resume of ${id}: ${resumed.status} ${JSON.stringify(resumed.body)}`);
  return took;
}

const isListen = (backend: { query: string }) => /^\s*LISTEN/i.test(backend.query);

/**
 * Stops B's LISTEN backend(s) with SIGSTOP until `stop()` (SIGCONT): B's connection stays open,
 * so it neither notices nor reconnects, and hears nothing. Only that backend of the bench's own
 * database is stopped, never the server.
 */
async function freezeListen(cluster: Cluster, b: ClusterNode): Promise<{ stop(): Promise<number> }> {
  const pids = (await cluster.backendsOf(b)).filter(isListen).map((backend) => backend.pid);
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  return {
    async stop() {
      for (const pid of pids) process.kill(pid, "SIGCONT");
      return pids.length;
    },
  };
}

/** Ends B's LISTEN backends every 10 ms until `stop()`; counts those it ended. */
function cutListen(cluster: Cluster, b: ClusterNode): { stop(): Promise<number> } {
  const ended = new Set<number>();
  let cutting = true;
  const loop = (async () => {
    while (cutting) {
      try {
        for (const backend of await cluster.backendsOf(b)) {
          if (!isListen(backend)) continue;
          await cluster.sql`SELECT pg_terminate_backend(${backend.pid})`;
          ended.add(backend.pid);
        }
      } catch {
        // A backend gone meanwhile: the next round looks again.
      }
      await Bun.sleep(10);
    }
  })();
  return {
    async stop() {
      cutting = false;
      await loop;
      return ended.size;
    },
  };
}

export async function pauseBlocks(
  blocks: number,
  trials: Record<PauseMode, number>,
  onBlock: (block: PauseBlock) => void,
): Promise<PauseBlock[]> {
  return withCluster({ nodes: 2, concurrency: 2, lease: PAUSE_LEASE }, async (cluster) => {
    const [a, b] = cluster.nodes;
    if (!a || !b) throw new Error("two nodes expected");
    const ids = await cluster.submitMany(4, { steps: 100_000, stepMs: PAUSE_STEP_MS }, a);
    await cluster.waitForRunningOn(b, ids, 2, 30_000);
    await cluster.waitForRunningOn(a, ids, 2, 30_000);
    const bId = await cluster.nodeId(b);
    // Warm-up: the first pauses pay for cold code paths on both nodes.
    for (let i = 0; i < 5; i++) await pauseOnce(cluster, a, bId, 50);
    const results: PauseBlock[] = [];
    for (let block = 1; block <= blocks; block++) {
      for (const mode of ["notify", "listen ended", "listen frozen"] as const) {
        const load = loadAverage();
        const cutter =
          mode === "listen ended"
            ? cutListen(cluster, b)
            : mode === "listen frozen"
              ? await freezeListen(cluster, b)
              : undefined;
        const latencies: number[] = [];
        let listenCut = 0;
        try {
          if (cutter) await Bun.sleep(500);
          const jitter = mode === "notify" ? 50 : PAUSE_LEASE.heartbeatMs;
          for (let i = 0; i < trials[mode]; i++)
            latencies.push(round(await pauseOnce(cluster, a, bId, jitter), 1));
        } finally {
          listenCut = (await cutter?.stop()) ?? 0;
        }
        if (cutter && listenCut === 0) throw new Error(`${mode}: B had no LISTEN backend to cut`);
        const result = { mode, block, load, latencies, listenCut };
        results.push(result);
        onBlock(result);
        // B listens again before a NOTIFY block.
        if (cutter)
          await waitFor(
            async () => ((await cluster.backendsOf(b)).some(isListen) ? true : undefined),
            15_000,
            "B did not listen again",
          );
      }
    }
    return results;
  });
}
