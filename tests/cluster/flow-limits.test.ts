// Rate limits and per-key concurrency across two nodes in one process on one PostgreSQL database:
// tasks are created through both nodes, both claim, and the limits hold for the two together,
// checked from the history (each run's start and end).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { PostgresTaskStore, type TaskManager } from "../../src/index.ts";
import { newTaskRow, startManager, type TestManager, untilStatus } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import { type InProcessNodes, startInProcessNodes } from "./in-process.ts";

const FLOW_TASKS = new URL("../fixtures/flow-tasks.ts", import.meta.url);
const CLUSTER = { leaseMs: 3_000, heartbeatMs: 200, rescueMs: 300, claimPollMs: 200 };

let cluster: InProcessNodes;
let nodes: TestManager[] = [];

beforeAll(async () => {
  cluster = await startInProcessNodes(["one", "two"], {
    cluster: CLUSTER,
    concurrency: 4,
    modules: [FLOW_TASKS],
  });
  nodes = cluster.nodes;
});

afterAll(async () => {
  await cluster?.close();
});

/** Creates each params through the nodes in turn. */
async function createOnBoth(name: string, paramsList: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, params] of paramsList.entries()) {
    const via = (nodes[index % nodes.length] as TestManager).manager;
    ids.push((await via.create(name, params)).task.id);
  }
  return ids;
}

interface Run {
  id: string;
  start: number;
  end: number;
}

/** Each task's (only) run, from its history, in start order. */
async function runsOf(manager: TaskManager, ids: string[]): Promise<Run[]> {
  const runs = await Promise.all(
    ids.map(async (id) => {
      const events = (await manager.events(id, { limit: 50 })).items;
      const starts = events.filter((event) => event.action === "start");
      const end = events.find((event) => event.toStatus === "FINISHED")?.at;
      if (starts.length !== 1 || end === undefined)
        throw new Error(`task ${id} did not run once to its end: ${JSON.stringify(events)}`);
      return { id, start: (starts[0] as { at: number }).at, end };
    }),
  );
  return runs.sort((a, b) => a.start - b.start);
}

/** The most runs at once, from their spans (an end and a start at the same ms do not overlap). */
function peakOverlap(runs: Run[]): number {
  const edges = runs.flatMap((run) => [
    { at: run.start, delta: 1 },
    { at: run.end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const edge of edges) {
    now += edge.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** A reason seen on either node on one of `ids` while it was PENDING. */
async function seenWaitReason(ids: string[]): Promise<string | null> {
  const until = Date.now() + 5_000;
  while (Date.now() < until) {
    for (const node of nodes) {
      for (const id of ids) {
        const task = await node.manager.require(id);
        if (task.status === "PENDING" && task.statusReason) return task.statusReason;
      }
    }
    await Bun.sleep(20);
  }
  return null;
}

async function finishAll(ids: string[]): Promise<void> {
  const [one] = nodes as [TestManager];
  for (const id of ids) {
    expect((await untilStatus(one.manager, id, ["FINISHED", "FAILED"], 30_000)).status).toBe("FINISHED");
  }
}

test("a per-key limit of 1 holds across both nodes at every moment, and other keys are not held back", async () => {
  const [one] = nodes as [TestManager];
  // 8 slots between the two nodes, 5 runs of "a" and of "b" each: without the shared count, each
  // node would run one of a key at once.
  const params = [];
  for (let i = 0; i < 5; i++) params.push({ customer: "a", ms: 150 }, { customer: "b", ms: 150 });
  params.push({ customer: "c", ms: 10 });
  const ids = await createOnBoth("import", params);
  const byKey = new Map<string, string[]>();
  for (const [index, id] of ids.entries()) {
    const customer = (params[index] as { customer: string }).customer;
    byKey.set(customer, [...(byKey.get(customer) ?? []), id]);
  }
  expect(await seenWaitReason(ids)).toMatch(/^waiting for a slot of key "[ab]": 1 run at once per key$/);
  // "c" is not stuck behind a's and b's queues: it ends while some of them still wait.
  await untilStatus(one.manager, byKey.get("c")?.[0] as string, ["FINISHED"], 30_000);
  const waiting = await Promise.all(
    [...(byKey.get("a") ?? []), ...(byKey.get("b") ?? [])].map(
      async (id) => (await one.manager.require(id)).status,
    ),
  );
  expect(waiting.filter((status) => status === "PENDING").length).toBeGreaterThan(0);
  await finishAll(ids);
  for (const key of ["a", "b"]) {
    const runs = await runsOf(one.manager, byKey.get(key) ?? []);
    // Never two runs of one key at once: each starts once the one before it has ended.
    expect(peakOverlap(runs)).toBe(1);
    for (let i = 1; i < runs.length; i++) {
      expect((runs[i] as Run).start).toBeGreaterThanOrEqual((runs[i - 1] as Run).end);
    }
  }
  // The keys ran side by side.
  expect(peakOverlap(await runsOf(one.manager, ids))).toBeGreaterThanOrEqual(2);
});

test("a rate limit of 2 per second holds across both nodes in every window", async () => {
  const ids = await createOnBoth(
    "rated",
    Array.from({ length: 8 }, (_, n) => ({ n })),
  );
  expect(await seenWaitReason(ids)).toContain("rate limit of 2 starts per 1000 ms reached; may start at");
  await finishAll(ids);
  const starts = (await runsOf((nodes[0] as TestManager).manager, ids)).map((run) => run.start);
  // The starts are written on the database's clock, the one the window is counted in: the 3rd
  // start is a whole window after the 1st, the 4th after the 2nd, and so on, with no slack.
  for (let i = 0; i + 2 < starts.length; i++) {
    expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(1000);
  }
  // 8 starts at 2 per second take at least 3 windows.
  expect((starts.at(-1) as number) - (starts[0] as number)).toBeGreaterThanOrEqual(3000);
});

test("a rate limit per key holds each key alone across both nodes", async () => {
  const params: Array<{ customer: string }> = [];
  for (let i = 0; i < 3; i++) params.push({ customer: "a" }, { customer: "b" });
  const ids = await createOnBoth("rated-per-customer", params);
  expect(await seenWaitReason(ids)).toMatch(/for key "[ab]"/);
  await finishAll(ids);
  const first: number[] = [];
  for (const key of ["a", "b"]) {
    const keyIds = ids.filter((_, index) => (params[index] as { customer: string }).customer === key);
    const starts = (await runsOf((nodes[0] as TestManager).manager, keyIds)).map((run) => run.start);
    for (let i = 0; i + 1 < starts.length; i++) {
      expect((starts[i + 1] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(800);
    }
    first.push(starts[0] as number);
  }
  // The keys do not wait for each other.
  expect(Math.abs((first[0] as number) - (first[1] as number))).toBeLessThan(800);
});

test("tasks stored before their keys were get them at the first claim: their per-key limit holds", async () => {
  const own = await testDatabase();
  const store = new PostgresTaskStore({ url: own.url, max: 4 });
  let node: TestManager | undefined;
  try {
    await store.migrate();
    const created = { fromStatus: null, toStatus: "PENDING" as const, action: "create" as const };
    const by = { reason: null, actor: null, source: null };
    const ids: string[] = [];
    // Three rows as kiln wrote them before it stored keys, and one with its key.
    for (let i = 0; i < 4; i++) {
      const task = await store.createTask(
        newTaskRow({
          taskName: "import",
          params: { customer: "x", ms: 150 },
          ...(i === 3 ? { rateKey: null, concurrencyKey: "x" } : {}),
        }),
        { ...created, ...by },
      );
      ids.push(task.id);
    }
    node = await startManager({ store, nodeName: "fresh", cluster: CLUSTER, concurrency: 4 });
    await node.manager.load(FLOW_TASKS);
    for (const id of ids) await untilStatus(node.manager, id, ["FINISHED"], 30_000);
    // Counted under "" instead, one of the old rows would have run beside the keyed one.
    expect(peakOverlap(await runsOf(node.manager, ids))).toBe(1);
    expect((await node.manager.require(ids[0] as string)).concurrencyKey).toBe("x");
  } finally {
    await node?.close();
    await store.close();
    await own.drop();
  }
});

test("a task held back by its rate limit shows the same runAt on both nodes, and starts then", async () => {
  const ids = await createOnBoth("rated-slow", [{ n: 0 }, { n: 1 }, { n: 2 }]);
  const [first, second] = ids as [string, string];
  const one = (nodes[0] as TestManager).manager;
  const two = (nodes[1] as TestManager).manager;
  const firstStart = async () =>
    (await one.events(first, { limit: 50 })).items.find((event) => event.action === "start")?.at;
  const until = Date.now() + 15_000;
  let shown: Array<number | null> = [];
  // Each node shows what its own last claim of the name answered; both claim every 200 ms.
  while (Date.now() < until) {
    const tasks = await Promise.all([one.require(second), two.require(second)]);
    if (tasks.some((task) => task.status !== "PENDING")) break;
    shown = tasks.map((task) => task.runAt);
    if (shown.every((runAt) => runAt !== null)) break;
    await Bun.sleep(20);
  }
  expect(shown).toHaveLength(2);
  const [onOne, onTwo] = shown as [number, number];
  expect(onOne).not.toBeNull();
  // The window's end is computed by the database from the same starts: one time for every node.
  expect(onTwo).toBe(onOne);
  const started = (await firstStart()) as number;
  expect(onOne).toBeGreaterThanOrEqual(started + 1500 - 500);
  expect(onOne).toBeLessThanOrEqual(started + 1500 + 500);
  await untilStatus(one, second, ["FINISHED"], 20_000);
  const secondStart = (await one.events(second, { limit: 50 })).items.find(
    (event) => event.action === "start",
  )?.at as number;
  expect(secondStart).toBeGreaterThanOrEqual(onOne);
  expect(secondStart).toBeLessThanOrEqual(onOne + 2_500);
  for (const id of ids) await untilStatus(one, id, ["FINISHED"], 20_000);
});
