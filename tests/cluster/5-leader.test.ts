// Killing the leader: another node becomes leader within the lease, rescue still works (the
// dead leader's tasks and, later, another dead node's tasks run again elsewhere), and nothing
// is done twice.
import { expect, test } from "bun:test";
import { type Cluster, type ClusterNode, clusterOnTestDatabase, eventually } from "./harness.ts";

const startCluster = clusterOnTestDatabase();
const MARGIN_MS = 3_000;

/** The one live node every live node names leader in GET /nodes, once they agree. */
async function agreedLeader(cluster: Cluster, timeoutMs: number, not?: ClusterNode): Promise<ClusterNode> {
  let seen = "";
  return eventually(
    async () => {
      const views = await Promise.all(
        cluster.live().map(async (node) => {
          const live = new Set(cluster.live().map((up) => up.pid));
          const leaders = (await cluster.listNodes(node)).filter((item) => item.leader && live.has(item.pid));
          return leaders.map((item) => item.pid);
        }),
      );
      seen = JSON.stringify(views);
      const [first] = views;
      const agreed = first?.length === 1 && views.every((view) => view.join() === first.join());
      const leader = agreed ? cluster.nodeByPid(first[0] as number) : undefined;
      return leader && leader !== not ? leader : undefined;
    },
    timeoutMs,
    () => `no single leader agreed on within ${timeoutMs} ms; leader pids per live node: ${seen}`,
    50,
  );
}

/** `victim`'s running tasks (at least one, each past a checkpoint), before it is killed. */
async function runningTasks(cluster: Cluster, victim: ClusterNode, ids: string[]): Promise<string[]> {
  const running = await cluster.waitForRunningOn(victim, ids, 1, 20_000);
  for (const id of running) await cluster.waitForStep(id, 1, 20_000);
  return running;
}

/** Each task runs again elsewhere than `victim` within `bound` of `killedAt`, from a checkpoint. */
async function rescued(
  cluster: Cluster,
  victim: ClusterNode,
  running: string[],
  killedAt: number,
  bound: number,
): Promise<void> {
  for (const id of running) {
    const run = await cluster.runElsewhere(id, victim.pid, killedAt, 60_000);
    expect(run.atMs - killedAt, `task ${id} rescued after ${run.atMs - killedAt} ms`).toBeLessThan(bound);
    expect(run.resumedFrom).toBeGreaterThan(0);
    expect(run.attempt).toBe(1);
  }
}

test("a killed leader is replaced within the lease, and rescue goes on working", async () => {
  const cluster = await startCluster({ nodes: 3, concurrency: 2 });
  const { leaseMs, rescueMs, claimPollMs } = cluster.lease;
  const leader = await agreedLeader(cluster, 10_000);
  const ids = await cluster.submitMany(6, { steps: 60, stepMs: 100 });

  // The leader dies with running tasks: a new leader within the lease, and its tasks rescued
  // (the election and the expiry of the dead node's leases may follow each other: twice the lease).
  const leaderTasks = await runningTasks(cluster, leader, ids);
  const killedAt = Date.now();
  await leader.kill();
  const electing = agreedLeader(cluster, 30_000, leader).then((node) => ({
    node,
    took: Date.now() - killedAt,
  }));
  electing.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  await rescued(cluster, leader, leaderTasks, killedAt, 2 * leaseMs + rescueMs + claimPollMs + MARGIN_MS);
  const { node: next, took } = await electing;
  expect(took, `a new leader after ${took} ms`).toBeLessThan(leaseMs + MARGIN_MS);

  // Another node dies: the new leader rescues its tasks within lease + rescue interval.
  const more = await cluster.submitMany(4, { steps: 60, stepMs: 100 });
  const all = [...ids, ...more];
  const [other] = cluster.live().filter((node) => node !== next);
  if (!other) throw new Error("no other live node");
  const otherTasks = await runningTasks(cluster, other, all);
  const otherKilledAt = Date.now();
  await other.kill();
  await rescued(cluster, other, otherTasks, otherKilledAt, leaseMs + rescueMs + claimPollMs + MARGIN_MS);
  expect((await agreedLeader(cluster, 10_000)).pid).toBe(next.pid);

  const tasks = await cluster.waitForAll(all, "FINISHED", 150_000);
  for (const id of all) expect(tasks.get(id)?.attempt).toBe(1);
  await cluster.assertCompletedOnce(all);
}, 240_000);
