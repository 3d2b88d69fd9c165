// SIGTERM of one node while its tasks run: they pause at a checkpoint, go back to PENDING, and
// the other nodes claim them at once and continue from that checkpoint, long before a lease
// (10 s here) would have expired.
import { expect, test } from "bun:test";
import { clusterOnTestDatabase } from "./harness.ts";

const startCluster = clusterOnTestDatabase();
const LEASE = { leaseMs: 10_000, heartbeatMs: 1_000, rescueMs: 1_000, claimPollMs: 200 };
/** Well under lease + rescue interval (11 s), with room for a loaded machine. */
const HANDOVER_BOUND_MS = 5_000;

test("a node stopped with SIGTERM hands its running tasks to the others at once, from their checkpoints", async () => {
  // 3 slots a node, at most 6 tasks: the two other nodes can run them all.
  const cluster = await startCluster({ nodes: 3, concurrency: 3, lease: LEASE });
  const [, victim] = cluster.nodes;
  if (!victim) throw new Error("no second node");
  const { ids, on: running } = await cluster.loadUntilRunningOn(victim, { steps: 100, stepMs: 100 }, 2, 6);
  for (const id of running) await cluster.waitForStep(id, 2, 20_000);

  const termAt = Date.now();
  const exited = victim.terminate();
  for (const id of running) {
    const run = await cluster.runElsewhere(id, victim.pid, termAt, 30_000);
    const took = run.atMs - termAt;
    expect(took, `task ${id} ran elsewhere ${took} ms after SIGTERM`).toBeLessThan(HANDOVER_BOUND_MS);
    // Paused at a checkpoint, which a pause always saves: exactly the last step it recorded.
    const lastOnVictim = Math.max(
      0,
      ...(await cluster.records.steps(id)).filter((row) => row.nodePid === victim.pid).map((row) => row.step),
    );
    expect(run.resumedFrom, await cluster.describe(id)).toBe(lastOnVictim);
    expect(run.attempt).toBe(1);
  }
  expect(await exited).toBe(0);
  for (const id of running) {
    const path = (await cluster.events(id)).map((event) => event.to);
    // Back to PENDING after running on the victim (the create made it PENDING first), never FAILED or STOPPED.
    expect(path.slice(path.indexOf("RUNNING") + 1), await cluster.describe(id)).toContain("PENDING");
    expect(path).not.toContain("FAILED");
    expect(path).not.toContain("STOPPED");
  }

  const tasks = await cluster.waitForAll(ids, "FINISHED", 120_000);
  for (const id of ids) expect(tasks.get(id)?.attempt).toBe(1);
  await cluster.assertCompletedOnce(ids);
  const completions = await cluster.records.completions();
  for (const id of running) expect(completions.get(id)?.nodePid).not.toBe(victim.pid);
  // Each step was done once: nothing redone after the handover.
  for (const id of running) {
    const steps = (await cluster.records.steps(id)).map((row) => row.step).sort((a, b) => a - b);
    expect(steps).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  }
}, 180_000);
