// The cluster harness on one node as kiln is today (no multi-node flags): the fixture task runs
// in kiln's worker threads, records into PostgreSQL with postgres.js, and completes once each.
import { expect, test } from "bun:test";
import { clusterOnTestDatabase } from "./harness.ts";

const startCluster = clusterOnTestDatabase();

test("one node runs 20 fixture tasks, each completed exactly once; a paused task resumes from its checkpoint on the next kiln", async () => {
  const cluster = await startCluster({ nodes: 1, concurrency: 4, clusterFlags: false });
  const [first] = cluster.nodes;
  if (!first) throw new Error("no node");
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await cluster.submit({ steps: 5, stepMs: 10 })).id);
  const long = (await cluster.submit({ steps: 60, stepMs: 20 })).id;

  // The node's own PostgreSQL connections are found from its process's sockets.
  const backends = await cluster.backendsOf(first);
  expect(backends.length).toBeGreaterThan(0);
  const all = await cluster.sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  for (const backend of backends) expect(all.map((row) => row.pid)).toContain(backend.pid);

  const tasks = await cluster.waitForAll(ids, "FINISHED", 60_000);
  for (const id of ids) expect(tasks.get(id)?.attempt).toBe(1);
  await cluster.assertCompletedOnce(ids);
  expect(await cluster.records.completionsByPid()).toEqual(new Map([[first.pid, 20]]));
  for (const id of ids) {
    const steps = await cluster.records.steps(id);
    expect(steps.map((row) => row.step)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(steps.map((row) => row.nodePid))).toEqual(new Set([first.pid]));
    // postgres.js ran inside kiln's worker threads, not on the main thread.
    expect((await cluster.records.runs(id)).map((run) => run.inWorker)).toEqual([true]);
  }

  // Paused at a checkpoint, kiln stopped and started again: the resumed run starts after it.
  await cluster.waitForStep(long, 3, 20_000);
  expect((await cluster.control(long, "pause", first, 5_000)).status).toBe(200);
  const pausedAt = await cluster.records.lastStep(long);
  expect(pausedAt).toBeGreaterThanOrEqual(3);
  expect(await first.terminate()).toBe(0);
  const second = await cluster.startNode();
  expect((await cluster.task(long, second)).status).toBe("PAUSED");
  expect((await cluster.control(long, "resume", second)).status).toBe(200);
  const finished = await cluster.waitForStatus(long, "FINISHED", 30_000);
  expect(finished.attempt).toBe(1);
  const runs = await cluster.records.runs(long);
  expect(runs.map((run) => [run.nodePid, run.resumedFrom])).toEqual([
    [first.pid, 0],
    [second.pid, pausedAt],
  ]);
  expect((await cluster.records.steps(long)).map((row) => row.step)).toEqual(
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  await cluster.assertCompletedOnce([...ids, long]);
  expect((await cluster.records.completions()).get(long)?.nodePid).toBe(second.pid);
  const finishes = (await cluster.events(long)).filter((event) => event.to === "FINISHED");
  expect(finishes).toHaveLength(1);
}, 120_000);

test("a second completion of a task raises in the task and is recorded for the tests to see", async () => {
  const cluster = await startCluster({ nodes: 1, concurrency: 2, clusterFlags: false });
  const [node] = cluster.nodes;
  if (!node) throw new Error("no node");
  const id = (await cluster.submit({ steps: 20, stepMs: 20 })).id;
  await cluster.waitForStep(id, 1, 20_000);
  // A completion by another run, as if the task had already finished elsewhere.
  await cluster.sql`INSERT INTO cluster_completions (task_id, node_pid, run_token, steps, at_ms)
    VALUES (${id}, 1, 'another-run', 20, ${Date.now()})`;
  const failed = await cluster.waitForStatus(id, ["FAILED", "FINISHED"], 30_000);
  expect(failed.status).toBe("FAILED");
  expect(JSON.stringify(failed.error)).toContain("completed a second time");
  expect(await cluster.records.duplicateCompletions()).toEqual([{ taskId: id, nodePid: node.pid }]);
  await expect(cluster.assertCompletedOnce([id])).rejects.toThrow("1 second completion(s)");
}, 60_000);
