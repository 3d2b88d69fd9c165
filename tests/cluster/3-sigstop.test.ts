// A node frozen (SIGSTOP) past its lease loses its tasks to the others; once it runs again
// (SIGCONT) its late writes are fenced: they change no task, its workers for those tasks stop,
// and no task finishes twice.
import { expect, test } from "bun:test";
import { type Cluster, clusterOnTestDatabase, eventually } from "./harness.ts";

const startCluster = clusterOnTestDatabase();
const MARGIN_MS = 3_000;

/**
 * Samples the tasks' progress (GET /tasks/:id) and stored checkpoints (the tasks table) until
 * `untilMs`; returns every move backwards seen.
 */
async function watchProgress(cluster: Cluster, ids: string[], untilMs: number): Promise<string[]> {
  const highest = new Map<string, number>();
  const backwards: string[] = [];
  const see = (key: string, value: number) => {
    const before = highest.get(key) ?? 0;
    if (value < before) backwards.push(`${key}: ${before} -> ${value}`);
    highest.set(key, Math.max(before, value));
  };
  while (Date.now() < untilMs) {
    for (const id of ids) {
      see(`${id} progress`, (await cluster.task(id)).progress?.done ?? 0);
      see(`${id} checkpoint`, await cluster.records.storedStep(id));
    }
    await Bun.sleep(50);
  }
  return backwards;
}

test("a node stopped past its lease and continued changes nothing: its tasks went on elsewhere and finish once", async () => {
  // 3 slots a node, at most 6 tasks: the two other nodes can run them all.
  const cluster = await startCluster({ nodes: 3, concurrency: 3 });
  const { leaseMs, rescueMs, claimPollMs, heartbeatMs } = cluster.lease;
  const [, victim] = cluster.nodes;
  if (!victim) throw new Error("no second node");
  const { ids, on: taken } = await cluster.loadUntilRunningOn(victim, { steps: 120, stepMs: 100 }, 2, 6);
  for (const id of taken) await cluster.waitForStep(id, 2, 20_000);
  const victimNodeId = await cluster.nodeId(victim);

  const frozenAt = Date.now();
  victim.freeze();
  const bound = leaseMs + rescueMs + claimPollMs + MARGIN_MS;
  for (const id of taken) {
    const run = await cluster.runElsewhere(id, victim.pid, frozenAt, 60_000);
    expect(run.atMs - frozenAt, `task ${id} taken over after ${run.atMs - frozenAt} ms`).toBeLessThan(bound);
    expect(run.attempt).toBe(1);
  }
  // The new owners get ahead of where the frozen node stopped, so any late write of it would
  // move a task backwards.
  for (const id of taken) {
    const frozenStep = Math.max(
      0,
      ...(await cluster.records.steps(id)).filter((row) => row.nodePid === victim.pid).map((row) => row.step),
    );
    await cluster.waitForStep(id, frozenStep + 5, 20_000);
    const task = await cluster.task(id);
    expect(task.status).toBe("RUNNING");
    expect(task.node).not.toBe(victimNodeId);
  }

  const thawedAt = Date.now();
  victim.thaw();
  const lateAfter = thawedAt + heartbeatMs + MARGIN_MS;
  const backwards = await watchProgress(cluster, taken, lateAfter + 2_000);
  expect(backwards, "progress or checkpoint moved backwards after the frozen node continued").toEqual([]);

  // Its workers for the lost tasks were stopped: none of their steps 2 s past a heartbeat and a
  // margin after it continued (the tasks still had most of their steps to go then).
  for (const id of taken) expect((await cluster.task(id)).status).toBe("RUNNING");
  const late = (await Promise.all(taken.map((id) => cluster.records.steps(id))))
    .flat()
    .filter((row) => row.nodePid === victim.pid && row.atMs > lateAfter);
  expect(late, "steps the continued node still ran for tasks it had lost").toEqual([]);

  const tasks = await cluster.waitForAll(ids, "FINISHED", 120_000);
  await cluster.assertCompletedOnce(ids);
  const completions = await cluster.records.completions();
  for (const id of taken) {
    const task = tasks.get(id);
    expect(task?.attempt).toBe(1);
    expect(completions.get(id)?.nodePid).not.toBe(victim.pid);
    // The result is the run of the node that took over.
    expect((task?.result as { pid?: number } | null)?.pid).toBe(completions.get(id)?.nodePid);
    const events = await cluster.events(id);
    expect(
      events.filter((event) => event.to === "FINISHED"),
      await cluster.describe(id),
    ).toHaveLength(1);
  }
  // Every task's steps were all done.
  for (const id of ids) expect(await cluster.records.lastStep(id)).toBe(120);
  await eventually(
    async () =>
      (await cluster.listNodes()).filter((node) => node.status === "alive").length >= 2 ? true : undefined,
    10_000,
    () => "the other nodes are not listed alive",
  );
}, 180_000);
