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
    const took = run.atMs - killedAt;
    if (took >= bound) console.error(await cluster.describe(id));
    expect(took, `task ${id} rescued after ${took} ms`).toBeLessThan(bound);
    expect(run.resumedFrom).toBeGreaterThan(0);
    expect(run.attempt).toBe(1);
  }
}

test("a killed leader is replaced within the lease, and rescue goes on working", async () => {
  // 3 slots a node; the tasks running when a node dies always fit in the others' free slots.
  const cluster = await startCluster({ nodes: 3, concurrency: 3 });
  const { leaseMs, rescueMs, claimPollMs } = cluster.lease;
  const params = { steps: 60, stepMs: 100 };
  const leader = await agreedLeader(cluster, 10_000);

  // The leader dies with running tasks: a new leader within the lease, and its tasks rescued
  // (the election and the expiry of the dead node's leases may follow each other: twice the lease).
  const { ids, on: leaderTasks } = await cluster.loadUntilRunningOn(leader, params, 1, 6);
  for (const id of leaderTasks) await cluster.waitForStep(id, 3, 20_000);
  const killedAt = Date.now();
  await leader.kill();
  const electing = agreedLeader(cluster, 30_000, leader).then((node) => ({
    node,
    took: Date.now() - killedAt,
  }));
  electing.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  await rescued(cluster, leader, leaderTasks, killedAt, 2 * leaseMs + rescueMs + claimPollMs + MARGIN_MS);
  const { node: next, took } = await electing;
  if (took >= leaseMs + MARGIN_MS) console.error(cluster.describeNodes());
  expect(took, `a new leader after ${took} ms`).toBeLessThan(leaseMs + MARGIN_MS);
  await cluster.waitForAll(ids, "FINISHED", 60_000);

  // Another node dies (its tasks fit in the last node's 3 slots): the new leader rescues them
  // within lease + rescue interval.
  const [other] = cluster.live().filter((node) => node !== next);
  if (!other) throw new Error("no other live node");
  const { ids: more, on: otherTasks } = await cluster.loadUntilRunningOn(other, params, 1, 3);
  for (const id of otherTasks) await cluster.waitForStep(id, 3, 20_000);
  const otherKilledAt = Date.now();
  await other.kill();
  await rescued(cluster, other, otherTasks, otherKilledAt, leaseMs + rescueMs + claimPollMs + MARGIN_MS);
  expect((await agreedLeader(cluster, 10_000)).pid).toBe(next.pid);

  const all = [...ids, ...more];
  const tasks = await cluster.waitForAll(all, "FINISHED", 150_000);
  for (const id of all) expect(tasks.get(id)?.attempt).toBe(1);
  await cluster.assertCompletedOnce(all);
}, 240_000);
