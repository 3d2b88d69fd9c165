// Two nodes in one process on one PostgreSQL database: node "b" has the task classes and runs
// everything, node "a" has none and only watches and controls. What "b" does reaches "a"'s
// listeners (transitions, progress, log lines), its waits, its counts and its node list; a pause
// asked of "a" lands on "b"'s run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type ManagerEvent, PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";

const CLUSTER = { leaseMs: 3_000, heartbeatMs: 200, rescueMs: 300, claimPollMs: 200 };

let database: Awaited<ReturnType<typeof testDatabase>>;
let watcher: TaskManager;
let runner: TestManager;
const stores: PostgresTaskStore[] = [];

beforeAll(async () => {
  database = await testDatabase();
  const open = () => {
    const store = new PostgresTaskStore({ url: database.url, max: 4 });
    stores.push(store);
    return store;
  };
  runner = await startManager({ store: open(), nodeName: "b", cluster: CLUSTER, concurrency: 2 });
  // No task classes: it claims nothing, so every run is the other node's.
  watcher = new TaskManager({ store: open(), nodeName: "a", cluster: CLUSTER, logger: silentLogger });
  await watcher.start();
  // Both have heard from the other's heartbeat: a node alone sends no notifications.
  const deadline = Date.now() + 10_000;
  while ((await runner.manager.nodes()).length < 2 || (await watcher.nodes()).length < 2) {
    if (Date.now() > deadline) throw new Error("the two nodes never saw each other");
    await Bun.sleep(50);
  }
  await Bun.sleep(CLUSTER.heartbeatMs * 3);
});

afterAll(async () => {
  await watcher?.shutdown();
  await runner?.close();
  for (const store of stores) await store.close();
  await database?.drop();
});

test("a node hears another node's transitions, progress, log lines and deletes, waits on them and counts them", async () => {
  const events: ManagerEvent[] = [];
  const unsubscribe = watcher.subscribe((event) => events.push(event));
  const { task } = await runner.manager.create("steps", { steps: 5, delayMs: 40 });
  const finished = await watcher.waitFor(task.id, (t) => t.status === "FINISHED", 20_000);
  expect(finished.status).toBe("FINISHED");
  const deadline = Date.now() + 5_000;
  const mine = () => events.filter((event) => ("task" in event ? event.task.id : event.taskId) === task.id);
  const logs = () => mine().filter((event) => event.type === "log");
  while (
    Date.now() < deadline &&
    (logs().length < 5 || !mine().some((e) => e.type === "transition" && e.to === "FINISHED"))
  )
    await Bun.sleep(25);
  unsubscribe();
  const seen = mine();
  const moves = seen.flatMap((event) => (event.type === "transition" ? [`${event.from}->${event.to}`] : []));
  expect(moves).toEqual(["null->PENDING", "PENDING->RUNNING", "RUNNING->FINISHED"]);
  const progress = seen.flatMap((event) => (event.type === "progress" ? [event.progress.done] : []));
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.at(-1)).toBe(5);
  expect(logs().map((event) => (event.type === "log" ? event.message : ""))).toEqual([
    "step 0",
    "step 1",
    "step 2",
    "step 3",
    "step 4",
  ]);
  const counts = await watcher.countByStatus();
  expect(counts.FINISHED).toBe(1);
  expect(counts.RUNNING).toBe(0);
  expect(counts.PENDING).toBe(0);
  // Deleted on the runner: the watcher's counts forget it too.
  await runner.manager.delete(task.id);
  const until = Date.now() + 5_000;
  while ((await watcher.countByStatus()).FINISHED !== 0 && Date.now() < until) await Bun.sleep(25);
  expect((await watcher.countByStatus()).FINISHED).toBe(0);
});

test("each node lists both, itself first, with one leader; a pause asked of one node lands on the other's run", async () => {
  const nodes = await watcher.nodes();
  expect(nodes.map((node) => node.name)).toEqual(["a", "b"]);
  expect(nodes[0]?.id).toBe(watcher.node.id);
  expect(nodes.filter((node) => node.leader)).toHaveLength(1);

  const { task } = await runner.manager.create("steps", { steps: 400, delayMs: 20 });
  const running = await untilStatus(runner.manager, task.id, ["RUNNING"]);
  expect(running.node).toBe(runner.manager.node.id);
  // A pause asked before the run's first step lands at its first checkpoint, with nothing done:
  // wait for a step, so that the resume below has a place to go on from.
  const stepped = Date.now() + 10_000;
  while (((await runner.manager.get(task.id))?.progress?.done ?? 0) < 1 && Date.now() < stepped)
    await Bun.sleep(10);
  const asked = await watcher.pause(task.id, { actor: "ops" });
  expect(asked.pending).toBe(true);
  const paused = await watcher.waitFor(task.id, (t) => t.status === "PAUSED", 10_000);
  expect(paused.node).toBeNull();
  const step = (paused.checkpoint as { next: number }).next;
  expect(step).toBeGreaterThan(0);
  // Resumed through the watcher, it can only run on the runner again, from where it paused.
  await watcher.resume(task.id);
  await untilStatus(runner.manager, task.id, ["RUNNING"]);
  await runner.manager.stop(task.id);
  const stopped = await watcher.waitFor(task.id, (t) => t.status === "STOPPED", 10_000);
  expect(stopped.status).toBe("STOPPED");
  const history = (await watcher.events(task.id, { limit: 100 })).items.map((event) => event.action);
  expect(history).toContain("pause");
  expect(history.filter((action) => action === "start")).toHaveLength(2);
});

test("a task name paused through one node holds on every node, and each shows why its tasks wait", async () => {
  await runner.manager.pauseTaskType("echo", { actor: "ops" });
  const { task } = await runner.manager.create("echo", { value: 1 });
  const deadline = Date.now() + 5_000;
  let reason: string | null = null;
  while (Date.now() < deadline) {
    reason = (await watcher.require(task.id)).statusReason;
    if (reason) break;
    await Bun.sleep(50);
  }
  expect(reason).toMatch(/^task name "echo" is paused by ops since /);
  expect((await runner.manager.require(task.id)).status).toBe("PENDING");
  await runner.manager.resumeTaskType("echo");
  expect((await untilStatus(runner.manager, task.id, ["FINISHED"])).status).toBe("FINISHED");
});
