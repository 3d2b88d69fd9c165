// A class's `static concurrency` limit across two nodes in one process on one PostgreSQL
// database: both run "hold" (limit 1), and no two of its runs overlap, whichever node runs them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TestManager, untilStatus } from "../helpers.ts";
import { type InProcessNodes, startInProcessNodes } from "./in-process.ts";

const SLACK_MS = 80;
const CLUSTER = { leaseMs: 3_000, heartbeatMs: 200, rescueMs: 300, claimPollMs: 100 };

let cluster: InProcessNodes;
let nodes: TestManager[] = [];

beforeAll(async () => {
  cluster = await startInProcessNodes(["one", "two"], { cluster: CLUSTER, concurrency: 3 });
  nodes = cluster.nodes;
});

afterAll(async () => {
  await cluster?.close();
});

test("a class limit of 1 holds across nodes: no two runs of the name overlap", async () => {
  const [one, two] = nodes as [TestManager, TestManager];
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const via = i % 2 === 0 ? one : two;
    ids.push((await via.manager.create("hold", { ms: 300 })).task.id);
  }
  const spans: Array<{ start: number; end: number }> = [];
  for (const id of ids) {
    await untilStatus(one.manager, id, ["FINISHED"], 30_000);
    const events = (await one.manager.events(id, { limit: 50 })).items;
    const start = events.find((event) => event.action === "start")?.at;
    const end = events.find((event) => event.toStatus === "FINISHED")?.at;
    if (start === undefined || end === undefined) throw new Error(`task ${id} has no start or finish`);
    spans.push({ start, end });
  }
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    // The next run is claimed only once the previous one's end is committed. History times are
    // each node's clock when it built the write, a few ms before its commit, hence the slack;
    // two runs at once would overlap by most of a run (300 ms).
    expect(spans[i]?.start as number).toBeGreaterThanOrEqual((spans[i - 1]?.end as number) - SLACK_MS);
  }
});
