// Fan-out and fan-in across two nodes in one process on one PostgreSQL database: the children a
// parent spawns are claimed by both nodes, the parent waits without a worker on either, and is
// claimed again (by whichever node) once the last child has ended, resumed once with every result.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { FanOutResult } from "../fixtures/fan-in-tasks.ts";
import { type TestManager, untilStatus } from "../helpers.ts";
import { type InProcessNodes, startInProcessNodes } from "./in-process.ts";

const CLUSTER = { leaseMs: 3_000, heartbeatMs: 200, rescueMs: 300, claimPollMs: 100 };
const CHILDREN = 16;

let cluster: InProcessNodes;
let nodes: TestManager[] = [];

beforeAll(async () => {
  cluster = await startInProcessNodes(["one", "two"], { cluster: CLUSTER, concurrency: 3 });
  nodes = cluster.nodes;
});

afterAll(async () => {
  await cluster?.close();
});

test("children run on both nodes and the parent resumes once with all their results", async () => {
  const [one, two] = nodes as [TestManager, TestManager];
  // Which node started what: each node's observers hear only its own writes.
  const startedOn = new Map<string, string[]>();
  for (const [name, node] of [
    ["one", one],
    ["two", two],
  ] as const) {
    node.manager.onTransition((event) => {
      if (event.action !== "start") return;
      startedOn.set(event.task.id, [...(startedOn.get(event.task.id) ?? []), name]);
    });
  }
  const { task } = await one.manager.create("fan-out", { count: CHILDREN, childMs: 300 });
  const done = await untilStatus(one.manager, task.id, ["FINISHED", "FAILED"], 60_000);
  expect(done.status).toBe("FINISHED");
  const result = done.result as FanOutResult;
  expect(result.statuses).toEqual(Array(CHILDREN).fill("FINISHED"));
  expect(result.values).toEqual(Array.from({ length: CHILDREN }, (_, i) => i));

  const childNodes = new Set(result.ids.flatMap((id) => startedOn.get(id) ?? []));
  expect([...childNodes].sort()).toEqual(["one", "two"]);
  // Every child ran once; the parent twice (before and after its wait), on any node.
  for (const id of result.ids) expect(startedOn.get(id)).toHaveLength(1);
  expect(startedOn.get(task.id)).toHaveLength(2);
  const tree = await two.manager.findWithTree(task.id);
  expect(tree.children.total).toBe(CHILDREN);
  const starts = (await two.manager.events(task.id, { limit: 100 })).items.filter(
    (e) => e.action === "start",
  );
  expect(starts).toHaveLength(2);
});
