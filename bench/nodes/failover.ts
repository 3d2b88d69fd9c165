// Time from SIGKILL of a node to its tasks running elsewhere: three nodes, the victim runs two
// long `steps` tasks (a checkpoint every 100 ms), it is killed, and the database is watched
// every 20 ms for each task's rescue (no longer RUNNING on the victim) and its new claim
// (RUNNING on another node); the task's own record says when its code ran again.
import type { LeaseSettings } from "../../tests/cluster/harness.ts";
import { loadAverage, round } from "../util.ts";
import { withCluster } from "./common.ts";

export interface FailoverTask {
  /** The task's lease end as the database had it just before the kill, from the kill (ms; < 0: already past). */
  leaseEndsMs: number;
  /** Kill → the rescue put it back (status no longer RUNNING on the victim). */
  rescuedMs: number;
  /** Kill → RUNNING on another node (its `node` column). */
  claimedMs: number;
  /** Kill → its code ran again on another node (its first record row of the new run). */
  codeMs: number;
  /** The step its new run resumed from (its checkpoint). */
  resumedFrom: number;
}

export interface FailoverTrial {
  timings: "default" | "short";
  trial: number;
  load: number | null;
  lease: LeaseSettings;
  /** The victim's last heartbeat before the kill, ms before it. */
  heartbeatAgeMs: number;
  tasks: FailoverTask[];
}

const WATCH_MS = 20;

/** Cluster start-ups a trial may try: the victim may not get two of the first six tasks. */
const SETUP_ATTEMPTS = 3;

export async function failoverTrial(
  timings: "default" | "short",
  trial: number,
  lease: LeaseSettings,
): Promise<FailoverTrial> {
  for (let attempt = 1; ; attempt++) {
    const result = await failoverOnce(timings, trial, lease);
    if (result !== undefined) return result;
    if (attempt >= SETUP_ATTEMPTS)
      throw new Error(`the victim did not run 2 of 6 tasks in ${SETUP_ATTEMPTS} clusters`);
  }
}

/** One trial; undefined when the victim did not get two tasks (the other nodes claimed them). */
async function failoverOnce(
  timings: "default" | "short",
  trial: number,
  lease: LeaseSettings,
): Promise<FailoverTrial | undefined> {
  return withCluster({ nodes: 3, concurrency: 3, lease }, async (cluster) => {
    const victim = cluster.nodes[1];
    if (!victim) throw new Error("no second node");
    // At most 6 tasks, so that the two other nodes have a slot for each of the victim's at once.
    const loaded = await cluster
      .loadUntilRunningOn(victim, { steps: 100_000, stepMs: 100 }, 2, 6)
      .catch((error: unknown) => {
        if (error instanceof Error && / ran \d+ of \d+ tasks created through it/.test(error.message))
          return undefined;
        throw error;
      });
    if (!loaded) return undefined;
    const { on } = loaded;
    for (const id of on) await cluster.waitForStep(id, 3, 30_000);
    const victimId = await cluster.nodeId(victim);
    // Killed at a random point of its heartbeat cycle, as a crash would be.
    await Bun.sleep(Math.random() * lease.heartbeatMs);
    const load = loadAverage();
    const [beat] = await cluster.sql<{ at: string }[]>`
      SELECT last_heartbeat_at AS at FROM nodes WHERE id = ${victimId}`;
    const leases = await cluster.sql<{ id: string; ends: string }[]>`
      SELECT id, lease_expires_at AS ends FROM tasks WHERE id IN ${cluster.sql(on)}`;
    const killedAt = Date.now();
    await victim.kill();
    const rescued = new Map<string, number>();
    const claimed = new Map<string, number>();
    const deadline = killedAt + lease.leaseMs + lease.rescueMs + lease.claimPollMs + 60_000;
    while (claimed.size < on.length) {
      if (Date.now() > deadline)
        throw new Error(
          `the victim's tasks were not all running elsewhere 60 s past the bound\n${await cluster.describe(on[0] ?? "")}`,
        );
      const rows = await cluster.sql<{ id: string; status: string; node: string | null }[]>`
        SELECT id, status, node_id AS node FROM tasks WHERE id IN ${cluster.sql(on)}`;
      const now = Date.now() - killedAt;
      for (const row of rows) {
        const onVictim = row.status === "RUNNING" && row.node === victimId;
        if (!onVictim && !rescued.has(row.id)) rescued.set(row.id, now);
        if (row.status === "RUNNING" && row.node && row.node !== victimId && !claimed.has(row.id)) {
          claimed.set(row.id, now);
          if (!rescued.has(row.id)) rescued.set(row.id, now);
        }
      }
      await Bun.sleep(WATCH_MS);
    }
    const tasks: FailoverTask[] = [];
    for (const id of on) {
      const run = await cluster.runElsewhere(id, victim.pid, killedAt, 30_000);
      tasks.push({
        leaseEndsMs: Number(leases.find((row) => row.id === id)?.ends ?? Number.NaN) - killedAt,
        rescuedMs: rescued.get(id) ?? Number.NaN,
        claimedMs: claimed.get(id) ?? Number.NaN,
        codeMs: run.atMs - killedAt,
        resumedFrom: run.resumedFrom,
      });
    }
    return {
      timings,
      trial,
      load,
      lease,
      heartbeatAgeMs: round(killedAt - Number(beat?.at ?? Number.NaN), 0),
      tasks,
    };
  });
}
