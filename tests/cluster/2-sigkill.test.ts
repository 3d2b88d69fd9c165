// SIGKILL of a node: its RUNNING tasks run again on the other nodes from their last checkpoint,
// within lease + rescue interval (+ claim poll), with the same attempt; a task PAUSED on it
// stays PAUSED, and resumes elsewhere from its checkpoint when asked.
import { expect, test } from "bun:test";
import { clusterOnTestDatabase } from "./harness.ts";

const startCluster = clusterOnTestDatabase();
/** What a loaded 2-core machine may add to a bound of the spec. */
const MARGIN_MS = 3_000;

test("a killed node's running tasks resume elsewhere from their checkpoints; its paused task stays paused until resumed", async () => {
  // 3 slots a node, at most 6 tasks: once one node is dead, the other two can run them all.
  const cluster = await startCluster({ nodes: 3, concurrency: 3 });
  const { leaseMs, rescueMs, claimPollMs } = cluster.lease;
  const [, victim] = cluster.nodes;
  if (!victim) throw new Error("no second node");
  const { ids, on } = await cluster.loadUntilRunningOn(victim, { steps: 60, stepMs: 100 }, 2, 6);

  // One of the victim's tasks is paused there; the others run on.
  const [first, ...running] = on as [string, ...string[]];
  await cluster.waitForStep(first, 2, 20_000);
  expect((await cluster.control(first, "pause", victim, 5_000)).status).toBe(200);
  expect((await cluster.task(first)).status).toBe("PAUSED");
  const pausedAt = await cluster.records.lastStep(first);
  for (const id of running) await cluster.waitForStep(id, 2, 20_000);

  const killedAt = Date.now();
  await victim.kill();
  // What the dead node left: its last recorded steps, and the checkpoints kiln stored.
  const left = new Map<string, { lastStep: number; stored: number }>();
  for (const id of running) {
    const steps = (await cluster.records.steps(id)).filter((row) => row.nodePid === victim.pid);
    left.set(id, {
      lastStep: Math.max(0, ...steps.map((row) => row.step)),
      stored: await cluster.records.storedStep(id),
    });
  }
  const bound = leaseMs + rescueMs + claimPollMs + MARGIN_MS;
  for (const id of running) {
    const { lastStep, stored } = left.get(id) ?? { lastStep: 0, stored: 0 };
    const run = await cluster.runElsewhere(id, victim.pid, killedAt, 60_000);
    const took = run.atMs - killedAt;
    expect(took, `task ${id} ran again after ${took} ms; bound ${bound} ms`).toBeLessThan(bound);
    expect(cluster.nodeByPid(run.nodePid)?.state).toBe("up");
    // From its last stored checkpoint, which is recent: checkpoints are saved on their way to
    // the database, so the last step or two recorded before the kill may not be in it yet.
    expect(run.resumedFrom, `task ${id}: stored checkpoint ${stored}, last step ${lastStep}`).toBe(stored);
    expect(stored).toBeGreaterThanOrEqual(Math.max(1, lastStep - 3));
    expect(stored).toBeLessThanOrEqual(lastStep);
    expect(run.attempt).toBe(1);
  }

  // The paused task is still PAUSED once the rescues are done and a lease more has passed.
  await Bun.sleep(leaseMs + rescueMs);
  const stillPaused = await cluster.task(first);
  expect(stillPaused.status, await cluster.describe(first)).toBe("PAUSED");
  expect(stillPaused.node).toBeNull();
  expect((await cluster.records.runs(first)).filter((run) => run.atMs >= killedAt)).toEqual([]);

  // Resumed through another node, it runs elsewhere from its checkpoint.
  const resumedAt = Date.now();
  expect((await cluster.control(first, "resume", cluster.any())).status).toBe(200);
  const resumed = await cluster.runElsewhere(first, victim.pid, resumedAt, 20_000);
  expect(resumed.resumedFrom).toBe(pausedAt);
  expect(resumed.attempt).toBe(1);

  const tasks = await cluster.waitForAll(ids, "FINISHED", 120_000);
  for (const id of [first, ...running]) {
    expect(tasks.get(id)?.attempt).toBe(1);
    const completion = (await cluster.records.completions()).get(id);
    expect(completion?.nodePid).not.toBe(victim.pid);
  }
  await cluster.assertCompletedOnce(ids);
}, 180_000);
