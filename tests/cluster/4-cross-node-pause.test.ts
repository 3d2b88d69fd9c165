// A pause asked of node A for a task running on node B lands through NOTIFY within the
// checkpoint interval + 1 s; with B's LISTEN connection ended, it still lands within one
// heartbeat (+ checkpoint interval).
import { expect, test } from "bun:test";
import { type Cluster, type ClusterNode, clusterOnTestDatabase, eventually } from "./harness.ts";

const startCluster = clusterOnTestDatabase();
const MARGIN_MS = 1_500;
const STEP_MS = 50;
// A heartbeat well above the NOTIFY bound, so the first pause cannot land by the heartbeat alone.
const LEASE = { leaseMs: 12_000, heartbeatMs: 4_000, rescueMs: 1_000, claimPollMs: 200 };

/** Asks `via` to pause `id`; resolves with the ms until any node showed it PAUSED. */
async function pauseLatency(
  cluster: Cluster,
  id: string,
  via: ClusterNode,
  timeoutMs: number,
): Promise<number> {
  const askedAt = Date.now();
  const answer = await cluster.control(id, "pause", via);
  expect([200, 202], JSON.stringify(answer.body)).toContain(answer.status);
  await eventually(
    async () => ((await cluster.task(id, via)).status === "PAUSED" ? true : undefined),
    timeoutMs,
    async () =>
      `task ${id} not PAUSED ${timeoutMs} ms after a pause asked of ${via}\n${await cluster.describe(id)}`,
    20,
  );
  return Date.now() - askedAt;
}

test("a pause asked of another node lands through NOTIFY, and within a heartbeat without the LISTEN connection", async () => {
  const cluster = await startCluster({ nodes: 2, concurrency: 2, lease: LEASE });
  const [a, b] = cluster.nodes;
  if (!a || !b) throw new Error("two nodes expected");
  const ids = await cluster.submitMany(4, { steps: 400, stepMs: STEP_MS }, a);
  const onB = await cluster.waitForRunningOn(b, ids, 2, 20_000);
  for (const id of onB) await cluster.waitForStep(id, 2, 20_000);
  const [first, second] = onB as [string, string];

  const notified = await pauseLatency(cluster, first, a, 30_000);
  expect(notified, `PAUSED ${notified} ms after the pause`).toBeLessThan(STEP_MS + 1_000 + MARGIN_MS);
  const pausedStep = await cluster.records.lastStep(first);
  await Bun.sleep(5 * STEP_MS);
  expect(await cluster.records.lastStep(first)).toBe(pausedStep);

  // B's LISTEN connection ended by the server, and ended again each time B listens anew while the
  // pause is on its way (postgres.js listens again within milliseconds, and a NOTIFY reaches only
  // those listening when it is sent): the pause still lands, by the heartbeat.
  const isListen = (backend: { query: string }) => /^\s*LISTEN/i.test(backend.query);
  const listening = (await cluster.backendsOf(b)).filter(isListen);
  expect(listening.length, `B's backends: ${JSON.stringify(await cluster.backendsOf(b))}`).toBeGreaterThan(0);
  const ended = new Set<number>();
  let cutting = true;
  const cutter = (async () => {
    while (cutting) {
      try {
        for (const backend of (await cluster.backendsOf(b)).filter(isListen)) {
          await cluster.sql`SELECT pg_terminate_backend(${backend.pid})`;
          ended.add(backend.pid);
        }
      } catch {
        // A backend gone meanwhile: the next round looks again.
      }
      await Bun.sleep(10);
    }
  })();
  let fallback: number;
  try {
    await eventually(
      async () => (ended.size > 0 ? true : undefined),
      5_000,
      () => "B's LISTEN backend was not ended",
    );
    fallback = await pauseLatency(cluster, second, a, 60_000);
  } finally {
    cutting = false;
    await cutter;
  }
  expect(
    fallback,
    `PAUSED ${fallback} ms after the pause (${ended.size} LISTEN backends of B ended)`,
  ).toBeLessThan(LEASE.heartbeatMs + STEP_MS + MARGIN_MS);

  // B listens again by itself.
  await eventually(
    async () => ((await cluster.backendsOf(b)).some(isListen) ? true : undefined),
    15_000,
    async () =>
      `B does not listen again 15 s after its LISTEN connection ended: ${JSON.stringify(await cluster.backendsOf(b))}`,
  );

  // Resumed through A, then every task stopped through A, B's included.
  for (const id of [first, second]) expect((await cluster.control(id, "resume", a)).status).toBe(200);
  for (const id of ids) expect((await cluster.control(id, "stop", a)).status).toBeOneOf([200, 202]);
  await cluster.waitForAll(ids, "STOPPED", 60_000);
  expect(await cluster.records.duplicateCompletions()).toEqual([]);
}, 180_000);
