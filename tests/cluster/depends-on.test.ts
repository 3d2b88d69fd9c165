// Dependencies between tasks across two nodes in one process on one PostgreSQL database: a task
// created through one node waits for tasks created through the other, wherever they run, and is
// freed (or failed, by its policy) once they end there.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TestManager, untilStatus } from "../helpers.ts";
import { type InProcessNodes, startInProcessNodes } from "./in-process.ts";

const CLUSTER = { leaseMs: 3_000, heartbeatMs: 200, rescueMs: 300, claimPollMs: 100 };

let cluster: InProcessNodes;
let one: TestManager;
let two: TestManager;

beforeAll(async () => {
  cluster = await startInProcessNodes(["one", "two"], { cluster: CLUSTER, concurrency: 2 });
  [one, two] = cluster.nodes as [TestManager, TestManager];
});

afterAll(async () => {
  await cluster?.close();
});

/** When the task started and ended, from its history as either node reads it. */
async function span(node: TestManager, id: string): Promise<{ start: number; end: number }> {
  const events = (await node.manager.events(id, { limit: 50 })).items;
  const start = events.find((event) => event.action === "start")?.at;
  const end = events.findLast((event) => event.toStatus === "FINISHED" || event.toStatus === "FAILED")?.at;
  if (start === undefined || end === undefined) throw new Error(`task ${id} has no start or end`);
  return { start, end };
}

test("a task created on one node waits for dependencies created on the other, and runs only after all finished", async () => {
  const dependencies = [
    (await one.manager.create("steps", { steps: 10, delayMs: 30 })).task.id,
    (await two.manager.create("steps", { steps: 6, delayMs: 30 })).task.id,
    (await one.manager.create("steps", { steps: 3, delayMs: 30 })).task.id,
  ];
  const dependent = (await two.manager.create("echo", { value: "last" }, { dependsOn: dependencies })).task;
  expect(dependent.status).toBe("PENDING");
  // Seen as waiting from the other node too.
  expect((await one.manager.get(dependent.id))?.awaiting).toBe("dependencies");

  const done = await untilStatus(one.manager, dependent.id, ["FINISHED"], 30_000);
  expect(done.result).toEqual({ value: "last" });
  const ran = await span(one, dependent.id);
  for (const id of dependencies) {
    expect((await one.manager.get(id))?.status).toBe("FINISHED");
    // Started after every dependency's end (history times are each node's clock: a little slack).
    expect(ran.start).toBeGreaterThanOrEqual((await span(one, id)).end - 80);
  }
  // One run, whichever node took it.
  const starts = (await one.manager.events(dependent.id, { limit: 50 })).items.filter(
    (event) => event.action === "start",
  );
  expect(starts).toHaveLength(1);
}, 60_000);

test("a dependency failing on one node fails the dependent created on the other, without a run", async () => {
  const failing = (await one.manager.create("fail", { where: "run" })).task.id;
  const dependent = (await two.manager.create("echo", { value: 1 }, { dependsOn: [failing] })).task.id;
  const failed = await untilStatus(two.manager, dependent, ["FAILED"], 30_000);
  expect((failed.error as { name?: string } | null)?.name).toBe("DependencyFailed");
  const starts = (await two.manager.events(dependent, { limit: 50 })).items.filter(
    (event) => event.action === "start",
  );
  expect(starts).toHaveLength(0);
}, 60_000);

test("many dependents over both nodes are all freed once their shared dependency finishes", async () => {
  const root = (await one.manager.create("steps", { steps: 5, delayMs: 30 })).task.id;
  const dependents: string[] = [];
  for (let i = 0; i < 20; i++) {
    const via = i % 2 === 0 ? one : two;
    dependents.push((await via.manager.create("echo", { value: i }, { dependsOn: [root] })).task.id);
  }
  for (const id of dependents) await untilStatus(one.manager, id, ["FINISHED"], 30_000);
  const rootEnd = (await span(one, root)).end;
  for (const id of dependents) expect((await span(one, id)).start).toBeGreaterThanOrEqual(rootEnd - 80);
}, 60_000);
