// Three nodes on one database share a thousand short tasks: every one finishes once, and more
// than one node does the work although every task was created through the first node.
import { expect, test } from "bun:test";
import { clusterOnTestDatabase, eventually } from "./harness.ts";

const startCluster = clusterOnTestDatabase();

test("3 nodes × 1,000 short tasks: every task FINISHED, one completion each, work on more than one node", async () => {
  const cluster = await startCluster({ nodes: 3, concurrency: 4 });
  const [first] = cluster.nodes;
  const ids = await cluster.submitMany(1_000, { steps: 2, stepMs: 2 }, first);
  expect(new Set(ids).size).toBe(1_000);

  const tasks = await cluster.waitForAll(ids, "FINISHED", 240_000);
  for (const id of ids) expect(tasks.get(id)?.attempt).toBe(1);
  await cluster.assertCompletedOnce(ids);
  expect((await cluster.records.completions()).size).toBe(1_000);

  const byPid = await cluster.records.completionsByPid();
  const nodePids = new Set(cluster.nodes.map((node) => node.pid));
  for (const pid of byPid.keys()) expect(nodePids.has(pid)).toBe(true);
  const shares = cluster.nodes.map((node) => `${node.name}: ${byPid.get(node.pid) ?? 0}`).join(", ");
  expect(byPid.size, `completions per node: ${shares}`).toBeGreaterThan(1);

  // Every node is listed alive, and running nothing once its next heartbeat has told.
  const listed = await eventually(
    async () => {
      const nodes = await cluster.listNodes();
      return nodes.every((node) => node.running === 0) ? nodes : undefined;
    },
    10_000,
    async () => `GET /nodes still counts running tasks: ${JSON.stringify(await cluster.listNodes())}`,
  );
  expect(listed.map((node) => node.pid).sort()).toEqual([...nodePids].sort());
  for (const node of listed) {
    expect(node).toMatchObject({ status: "alive", running: 0, concurrency: 4 });
    expect(node.id).toMatch(/^node-\d+\/[0-9a-f]{8}$/);
    expect(node.id.startsWith(`${cluster.nodeByPid(node.pid)?.name}/`)).toBe(true);
    expect(new Date(node.lastHeartbeatAt).toISOString()).toBe(node.lastHeartbeatAt);
  }
  expect(listed.filter((node) => node.leader)).toHaveLength(1);
}, 300_000);
