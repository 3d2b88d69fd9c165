// Schedules on two nodes: only the leader fires, and a leader killed while a seconds-field cron
// fires neither doubles nor skips a fire time (with misfire "all", the new leader fires the ones
// missed while no node led).
import { expect, test } from "bun:test";
import { api } from "../binary/kiln-process.ts";
import { type Cluster, type ClusterNode, clusterOnTestDatabase, eventually } from "./harness.ts";

const startCluster = clusterOnTestDatabase();

async function leaderOf(cluster: Cluster, not?: ClusterNode): Promise<ClusterNode> {
  return eventually(
    async () => {
      const live = new Set(cluster.live().map((node) => node.pid));
      const leaders = (await cluster.listNodes(cluster.any())).filter(
        (node) => node.leader && live.has(node.pid),
      );
      const leader = leaders.length === 1 ? cluster.nodeByPid(leaders[0]?.pid as number) : undefined;
      return leader && leader !== not ? leader : undefined;
    },
    20_000,
    () => "no single live leader",
    50,
  );
}

/** The schedules counter /metrics shows for `id` on a node. */
async function firesCounted(node: ClusterNode, id: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((row) => row.startsWith("kiln_schedule_fires_total") && row.includes(`"${id}"`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

test("only the leader fires; a killed leader's successor fires every fire time once, the missed ones included", async () => {
  const cluster = await startCluster({ nodes: 2, concurrency: 2 });
  const leader = await leaderOf(cluster);
  const other = cluster.any(leader);
  const created = await api(`${other.url}/schedules`, {
    json: {
      id: "tick",
      name: "steps",
      cron: "* * * * * *",
      misfire: "all",
      backfillMs: 60_000,
      params: { steps: 1, stepMs: 0, record: cluster.dbUrl },
    },
  });
  expect(created.status).toBe(201);

  await eventually(
    async () => ((await firesCounted(leader, "tick")) >= 3 ? true : undefined),
    15_000,
    () => "the leader did not fire 3 times",
  );
  // Made through the other node, fired by the leader alone.
  expect(await firesCounted(other, "tick")).toBe(0);

  await leader.kill();
  const successor = await leaderOf(cluster, leader);
  expect(successor).toBe(other);
  const before = await firesCounted(successor, "tick");
  await eventually(
    async () => ((await firesCounted(successor, "tick")) >= before + 3 ? true : undefined),
    20_000,
    () => "the new leader did not fire",
  );
  const paused = await api(`${successor.url}/schedules/tick/pause`, { method: "POST" });
  expect(paused.status).toBe(200);

  const fires = await cluster.sql<{ fire_time: number; task_id: string | null }[]>`
    SELECT fire_time::bigint AS fire_time, task_id FROM schedule_fires WHERE schedule_id = 'tick' ORDER BY fire_time`;
  const times = fires.map((fire) => Number(fire.fire_time));
  expect(times.length).toBeGreaterThanOrEqual(6);
  // One fire per second, none missing between the first and the last, each with its own task.
  for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(1_000);
  expect(fires.every((fire) => fire.task_id !== null)).toBe(true);
  const [tasks] = await cluster.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM tasks WHERE schedule_id = 'tick'`;
  expect(tasks?.n).toBe(fires.length);
});
