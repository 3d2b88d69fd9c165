// PostgreSQL restarted under load (a server of this test's own: the shared test server is not
// to be restarted): the nodes reconnect and listen again by themselves, and every task whose
// create was acknowledged (201) finishes exactly once.
import { afterAll, expect, test } from "bun:test";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../support/postgres.ts";
import { api, Cluster, type ClusterNode, eventually } from "./harness.ts";

let server: ThrowawayPostgres | undefined;
let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.close();
  await server?.stop();
});

/** Creates tasks round-robin over the nodes until `stop()`; keeps the ids of those answered 201. */
function submitting(cluster: Cluster) {
  const acknowledged: string[] = [];
  const answers = new Map<string, number>();
  const createdAt: number[] = [];
  let going = true;
  const params = { steps: 5, stepMs: 20, record: cluster.dbUrl };
  const lane = async (node: ClusterNode) => {
    while (going) {
      try {
        const { status, body } = await api<{ id: string }>(`${node.url}/tasks`, {
          json: { name: "steps-retried", params },
        });
        answers.set(String(status), (answers.get(String(status)) ?? 0) + 1);
        if (status === 201) {
          acknowledged.push(body.id);
          createdAt.push(Date.now());
        }
      } catch (error) {
        // A request that failed outright: counted with the failure's last part (its cause).
        const key = `error ${String(error).split(": ").at(-1)}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
      await Bun.sleep(20);
    }
  };
  const lanes = Promise.all(cluster.nodes.map(lane));
  return {
    acknowledged,
    answers,
    createdAt,
    stop: async () => {
      going = false;
      await lanes;
    },
  };
}

test("PostgreSQL restarted while tasks are created and run: the nodes come back by themselves, every acknowledged task finishes once", async () => {
  server = await startThrowawayPostgres();
  // A lease longer than the outage (the restart and the nodes' reconnects take a few seconds on a
  // loaded machine): no node is taken for dead, so nothing runs twice. With an outage longer than
  // the lease, a task whose end could not be written meanwhile runs again from its checkpoint.
  cluster = await Cluster.start(server.url, {
    nodes: 3,
    concurrency: 2,
    lease: { leaseMs: 8_000, heartbeatMs: 500, rescueMs: 500, claimPollMs: 200 },
  });
  const load = submitting(cluster);
  await Bun.sleep(2_000);
  expect(load.acknowledged.length).toBeGreaterThan(0);

  const restartedAt = Date.now();
  await server.restart();
  const upAt = Date.now();
  // Created again on every node after the restart, without anyone touching the nodes.
  await eventually(
    async () => (load.createdAt.filter((at) => at > upAt).length >= 10 ? true : undefined),
    30_000,
    () =>
      `fewer than 10 tasks created in 30 s after the restart; answers: ${JSON.stringify([...load.answers])}\n` +
      cluster?.describeNodes(20),
  );
  await Bun.sleep(2_000);
  await load.stop();
  for (const node of cluster.nodes) {
    expect(
      node.server.proc.exitCode,
      `${node} exited:\n${node.stderr.trim().split("\n").slice(-15).join("\n")}`,
    ).toBeNull();
  }

  const ids = load.acknowledged;
  const tasks = await cluster.waitForAll(ids, "FINISHED", 120_000);
  expect(tasks.size).toBeGreaterThanOrEqual(ids.length);
  await cluster.assertCompletedOnce(ids);
  // A create answered otherwise (a 503 whose commit went through, a request that timed out) may
  // have made a task too, which runs like the others: at most one completion per such answer.
  const unanswered = [...load.answers].reduce((sum, [status, n]) => (status === "201" ? sum : sum + n), 0);
  const finishes = await cluster.sql<{ count: string }[]>`SELECT count(*) AS count FROM cluster_completions`;
  expect(Number(finishes[0]?.count)).toBeGreaterThanOrEqual(ids.length);
  expect(Number(finishes[0]?.count)).toBeLessThanOrEqual(ids.length + unanswered);

  // All three listed alive again, and listening: a pause of a task on one node asked of another lands.
  await eventually(
    async () => {
      const listed = await cluster?.listNodes();
      return listed?.filter((node) => node.status === "alive").length === 3 ? true : undefined;
    },
    20_000,
    async () => `GET /nodes after the restart: ${JSON.stringify(await cluster?.listNodes())}`,
  );
  for (const node of cluster.nodes) {
    const listens = (await cluster.backendsOf(node)).filter((backend) => /^\s*LISTEN/i.test(backend.query));
    expect(listens.length, `${node} listens again`).toBeGreaterThan(0);
  }
  const replaced = cluster.nodes.map(
    (node) => node.server.lines.filter((line) => line.includes("listening on a new one")).length,
  );
  console.log(
    `restart took ${upAt - restartedAt} ms; ${ids.length} tasks acknowledged; answers ${JSON.stringify([...load.answers])}; deaf LISTEN connections replaced per node ${JSON.stringify(replaced)}`,
  );
}, 300_000);
