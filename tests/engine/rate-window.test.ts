// A rate-limited task's runAt, and the rate window across a restart, with real workers on each
// store: a waiting task shows the time it may start as its runAt and starts then; a manager
// started again on the same store within a window starts no more than `count` in any window,
// counted from the history across the restart.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  TaskManager as Manager,
  PostgresTaskStore,
  silentLogger,
  type TaskManager,
} from "../../src/index.ts";
import { tempDir, untilStatus } from "../helpers.ts";
import { testDatabase } from "../store/postgres/database.ts";
import { STORE_KINDS, type StoreKind } from "../stores.ts";

const FLOW_TASKS = new URL("../fixtures/flow-tasks.ts", import.meta.url);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens managers on one store of `kind`, the same each time: a restart is a second `open()`. */
async function storeOf(
  kind: StoreKind,
): Promise<{ open: () => Promise<{ manager: TaskManager; close: () => Promise<void> }> }> {
  const dir = tempDir();
  cleanups.push(async () => dir.remove());
  const database = kind === "postgres" ? await testDatabase() : undefined;
  if (database) cleanups.push(() => database.drop());
  return {
    open: async () => {
      const store = database ? new PostgresTaskStore({ url: database.url, max: 4 }) : undefined;
      const manager = new Manager({
        ...(store ? { store } : { db: join(dir.path, "kiln.db") }),
        concurrency: 4,
        logger: silentLogger,
      });
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await manager.shutdown();
        await store?.close();
      };
      cleanups.push(close);
      await manager.load(FLOW_TASKS);
      await manager.start();
      return { manager, close };
    },
  };
}

/** When each of the task's runs started, from its history. */
async function startsOf(manager: TaskManager, id: string): Promise<number[]> {
  return (await manager.events(id)).items
    .filter((event) => event.action === "start")
    .map((event) => event.at);
}

async function allStarts(manager: TaskManager, ids: string[]): Promise<number[]> {
  return (await Promise.all(ids.map((id) => startsOf(manager, id)))).flat().sort((a, b) => a - b);
}

/** Polls until `check` answers something, or fails after `timeoutMs`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await check();
    if (value !== undefined) return value;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A start is written a little after it was decided (its commit); on a loaded machine the wake-up
// and the commit of a start due at runAt can take a while. Far below the windows used here.
const SLACK_MS = 500;
const LATE_MS = 2_500;

describe.each(STORE_KINDS)("the rate window on %s", (kind) => {
  test("a waiting task's runAt is the time it may start, and it starts then", async () => {
    const { manager } = await (await storeOf(kind)).open();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await manager.create("rated-slow", { n })).task.id);
    const [first, second] = ids as [string, string];
    const firstStart = await eventually("the first start", async () => (await startsOf(manager, first))[0]);
    // The second waits for the window of the first: its runAt says until when.
    const waiting = await eventually("the second's runAt", async () => {
      const task = await manager.require(second);
      return task.status === "PENDING" && task.runAt !== null && task.statusReason ? task : undefined;
    });
    const runAt = waiting.runAt as number;
    expect(runAt).toBeGreaterThanOrEqual(firstStart + 1500 - SLACK_MS);
    expect(runAt).toBeLessThanOrEqual(firstStart + 1500 + SLACK_MS);
    expect(waiting.statusReason).toBe(
      `rate limit of 1 start per 1500 ms reached; may start at ${new Date(runAt).toISOString()}`,
    );
    // The list shows it too.
    const listed = (await manager.list({ name: "rated-slow" })).items.find((task) => task.id === second);
    if (listed?.status === "PENDING") expect(listed.runAt).toBe(runAt);
    await untilStatus(manager, second, ["FINISHED"]);
    const secondStart = (await startsOf(manager, second))[0] as number;
    expect(secondStart).toBeGreaterThanOrEqual(runAt - 50);
    expect(secondStart).toBeLessThanOrEqual(runAt + LATE_MS);
    // Once started, the row's own runAt (none) is shown again.
    expect((await manager.require(second)).runAt).toBeNull();
  });

  test("a restart within a window starts no more than count in any window, from the history", async () => {
    const store = await storeOf(kind);
    const before = await store.open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await before.manager.create("rated-window", { customer: "c-1" })).task.id);
    // Two start at once; the window is full.
    await eventually("two starts", async () =>
      (await allStarts(before.manager, ids)).length >= 2 ? true : undefined,
    );
    await before.close();

    const after = await store.open();
    // The window read from the history holds the next start back: its runAt is a window after the first.
    const firstStarts = await allStarts(after.manager, ids);
    expect(firstStarts.length).toBe(2);
    const waiting = await eventually("a waiting task's runAt after the restart", async () => {
      for (const id of ids) {
        const task = await after.manager.require(id);
        if (task.status === "PENDING" && task.runAt !== null) return task;
      }
      return undefined;
    });
    expect(waiting.runAt as number).toBeGreaterThanOrEqual((firstStarts[0] as number) + 3000 - SLACK_MS);
    expect(waiting.statusReason).toContain('rate limit of 2 starts per 3000 ms for key "c-1" reached');
    for (const id of ids)
      expect((await untilStatus(after.manager, id, ["FINISHED", "FAILED"])).status).toBe("FINISHED");
    const starts = await allStarts(after.manager, ids);
    expect(starts.length).toBe(5);
    // Any 3 consecutive starts span at least a window: never 3 in one.
    for (let i = 0; i + 2 < starts.length; i++) {
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThan(3000 - SLACK_MS);
    }
  }, 60_000);
});
