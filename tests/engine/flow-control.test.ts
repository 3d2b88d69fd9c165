// Rate limits and concurrency per key in the engine, with real workers, on each store: a task
// over its limit waits PENDING with the reason shown and starts when allowed, never failed.
import { afterEach, describe, expect, test } from "bun:test";
import { describeTask } from "../../src/engine/registry.ts";
import { BaseTask, InvalidParamsError, type TaskManager } from "../../src/index.ts";
import { startManager, type TestManager, untilStatus } from "../helpers.ts";
import { makeStoreOptions, STORE_KINDS, type StoreKind } from "../stores.ts";

const FLOW_TASKS = new URL("../fixtures/flow-tasks.ts", import.meta.url);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function managerOn(kind: StoreKind, concurrency: number): Promise<TestManager> {
  const store = await makeStoreOptions(kind);
  cleanups.push(store.close);
  const env = await startManager({ ...store.options, concurrency });
  cleanups.push(env.close);
  await env.manager.load(FLOW_TASKS);
  return env;
}

/** When each task's (only) run started, from its history. */
async function startTimes(manager: TaskManager, ids: string[]): Promise<number[]> {
  const times = await Promise.all(
    ids.map(async (id) => {
      const start = (await manager.events(id)).items.find((event) => event.action === "start");
      if (!start) throw new Error(`task ${id} has no start in its history`);
      return start.at;
    }),
  );
  return times.sort((a, b) => a - b);
}

/** A reason seen on one of `ids` while it was PENDING, polling until one shows. */
async function seenWaitReason(manager: TaskManager, ids: string[]): Promise<string | null> {
  const until = Date.now() + 5_000;
  while (Date.now() < until) {
    for (const id of ids) {
      const task = await manager.require(id);
      if (task.status === "PENDING" && task.statusReason) return task.statusReason;
    }
    await Bun.sleep(20);
  }
  return null;
}

// Starts are recorded when their RUNNING row is written, a little after the engine admitted
// them: the windows are checked with this much slack, far below the 1 s window.
const SLACK_MS = 250;

describe.each(STORE_KINDS)("flow control on %s", (kind) => {
  test("a rate limit of 2 per second: no more than 2 starts in any second, none failed", async () => {
    const { manager } = await managerOn(kind, 4);
    const ids = [];
    for (let n = 0; n < 7; n++) ids.push((await manager.create("rated", { n })).task.id);
    const reason = await seenWaitReason(manager, ids);
    expect(reason).toContain("rate limit of 2 starts per 1000 ms reached; may start at");
    for (const id of ids)
      expect((await untilStatus(manager, id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
    const starts = await startTimes(manager, ids);
    // The 3rd start is at least a window after the 1st, the 4th after the 2nd, and so on.
    for (let i = 0; i + 2 < starts.length; i++) {
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(1000 - SLACK_MS);
    }
    // 7 starts at 2 per second take at least 3 windows.
    expect((starts.at(-1) as number) - (starts[0] as number)).toBeGreaterThanOrEqual(3000 - SLACK_MS);
  });

  test("a rate limit per key holds each key alone", async () => {
    const { manager } = await managerOn(kind, 4);
    const a = [];
    const b = [];
    for (let i = 0; i < 3; i++) {
      a.push((await manager.create("rated-per-customer", { customer: "a" })).task.id);
      b.push((await manager.create("rated-per-customer", { customer: "b" })).task.id);
    }
    expect(await seenWaitReason(manager, [...a, ...b])).toMatch(/for key "[ab]"/);
    for (const id of [...a, ...b]) await untilStatus(manager, id, ["FINISHED"]);
    for (const ids of [a, b]) {
      const starts = await startTimes(manager, ids);
      for (let i = 0; i + 1 < starts.length; i++) {
        expect((starts[i + 1] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(800 - SLACK_MS);
      }
    }
    // The keys do not wait for each other: b's first start is not a window after a's.
    const firstA = (await startTimes(manager, a))[0] as number;
    const firstB = (await startTimes(manager, b))[0] as number;
    expect(Math.abs(firstB - firstA)).toBeLessThan(800);
  });

  test("concurrency per key: one run per customer at a time, in order, others not held back", async () => {
    const { manager } = await managerOn(kind, 4);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const customerOf = new Map<string, string>();
    const unsubscribe = manager.subscribe((event) => {
      if (event.type !== "transition" || event.task.taskName !== "import") return;
      const customer = customerOf.get(event.task.id) ?? (event.task.params as { customer: string }).customer;
      if (event.to === "RUNNING") running.set(customer, (running.get(customer) ?? 0) + 1);
      if (event.from === "RUNNING") running.set(customer, (running.get(customer) ?? 0) - 1);
      peak.set(customer, Math.max(peak.get(customer) ?? 0, running.get(customer) ?? 0));
    });
    cleanups.push(async () => unsubscribe());
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await manager.create("import", { customer: "a", ms: 300 })).task.id);
    const b = (await manager.create("import", { customer: "b", ms: 10 })).task.id;
    expect(await seenWaitReason(manager, a)).toBe('waiting for a slot of key "a": 1 run at once per key');
    // b is not stuck behind a's queue: it finishes while a's tasks still wait.
    await untilStatus(manager, b, ["FINISHED"]);
    const aStatuses = await Promise.all(a.map(async (id) => (await manager.require(id)).status));
    expect(aStatuses.filter((status) => status === "FINISHED").length).toBeLessThan(3);
    for (const id of a)
      expect((await untilStatus(manager, id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
    expect(peak.get("a")).toBe(1);
    // From the history too: each of a's runs starts after the one before it ended.
    const runs = await Promise.all(
      a.map(async (id) => {
        const events = (await manager.events(id)).items;
        const start = events.find((event) => event.action === "start")?.at as number;
        const end = events.find((event) => event.toStatus === "FINISHED")?.at as number;
        return { id, start, end };
      }),
    );
    runs.sort((x, y) => x.start - y.start);
    for (let i = 0; i + 1 < runs.length; i++) {
      expect((runs[i + 1] as { start: number }).start).toBeGreaterThanOrEqual(
        (runs[i] as { end: number }).end,
      );
    }
    // In the order they were created.
    expect(runs.map((run) => run.id)).toEqual(a);
  });

  test("a key function that throws refuses the create like invalid params", async () => {
    const { manager } = await managerOn(kind, 2);
    await expect(manager.create("picky-key", { customer: "" })).rejects.toBeInstanceOf(InvalidParamsError);
    const ok = (await manager.create("picky-key", { customer: "x" })).task;
    expect((await untilStatus(manager, ok.id, ["FINISHED"])).status).toBe("FINISHED");
  });
});

test("a bad rateLimit or concurrency declaration fails registration naming the field", () => {
  class BadRate extends BaseTask<unknown, unknown> {
    static override taskName = "bad-rate";
    static override rateLimit = { count: 0, perMs: 1000 };
    async run() {
      return null;
    }
  }
  expect(() => describeTask(BadRate, undefined)).toThrow(/static rateLimit\.count must be an integer/);
  class BadKey extends BaseTask<unknown, unknown> {
    static override taskName = "bad-key";
    async run() {
      return null;
    }
  }
  // The object form without its key function, as untyped user code can write it.
  Object.assign(BadKey, { concurrency: { limit: 2 } });
  expect(() => describeTask(BadKey, undefined)).toThrow(/static concurrency\.key is required/);
});
