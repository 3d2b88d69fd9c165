// Crash recovery on PostgreSQL with a real kill -9: the engine child of recovery.test.ts, on a
// PostgreSQL database. What it acknowledged survives, RUNNING resumes from its checkpoint,
// PAUSED stays paused, nothing runs twice; and the dead process's owner lock is free at once.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { DatabaseInUseError, PostgresTaskStore, silentLogger, TaskManager } from "../../src/index.ts";
import { startEngineChild } from "../fixtures/engine-child-process.ts";
import { FIXTURE_TASKS, statusPath, untilStatus } from "../helpers.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  await database.drop();
});
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startChild(url: string) {
  return startEngineChild<{ finished: string; running: string[]; paused: string; delayed: string }>(
    url,
    "crash",
    (kill) => cleanups.push(kill),
  );
}

test("after SIGKILL on PostgreSQL the owner lock is free at once, RUNNING resumes from its checkpoint, PAUSED stays paused, nothing runs twice", async () => {
  const { child, ids } = await startChild(database.url);

  // Frozen where it stands (its tasks go no further, its connections stay open): while the child
  // lives, the database is its own.
  child.kill("SIGSTOP");
  const rival = new PostgresTaskStore({ url: database.url });
  cleanups.push(() => rival.close());
  await expect(rival.acquireOwnerLock("exclusive")).rejects.toBeInstanceOf(DatabaseInUseError);

  child.kill(9);
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  // The kernel closes the dead process's sockets; its backend ends and its advisory lock with it.
  const killedAt = performance.now();
  let tries = 0;
  for (;;) {
    tries++;
    try {
      await rival.acquireOwnerLock("exclusive");
      break;
    } catch (error) {
      if (!(error instanceof DatabaseInUseError) || performance.now() - killedAt > 10_000) throw error;
      await Bun.sleep(10);
    }
  }
  console.log(
    `owner lock taken ${(performance.now() - killedAt).toFixed(0)} ms after the child's exit (${tries} tries)`,
  );
  await rival.close();

  // What the crashed process left in the database.
  const sql = rawClient(database.url);
  cleanups.push(() => sql.end());
  const savedRunning: number[] = [];
  for (const id of ids.running) {
    const [row] = await sql<{ status: string; checkpoint: { next: number } }[]>`
      SELECT status, checkpoint FROM tasks WHERE id = ${id}`;
    expect(row?.status).toBe("RUNNING");
    savedRunning.push(row?.checkpoint.next ?? -1);
  }
  for (const next of savedRunning) expect(next).toBeGreaterThanOrEqual(10);

  const store = new PostgresTaskStore({ url: database.url });
  await store.acquireOwnerLock();
  const manager = new TaskManager({ store, concurrency: 4, logger: silentLogger });
  cleanups.push(() => store.close());
  cleanups.push(() => manager.shutdown());
  await manager.load(FIXTURE_TASKS);
  await manager.start();

  const paused = await manager.require(ids.paused);
  expect(paused.status).toBe("PAUSED");
  const pausedAt = (paused.checkpoint as { next: number }).next;
  expect(pausedAt).toBeGreaterThan(0);

  const results = await Promise.all(ids.running.map((id) => untilStatus(manager, id, ["FINISHED"], 30_000)));
  for (const [i, task] of results.entries()) {
    const result = task.result as { startedAt: number; ran: number[] };
    expect(result.startedAt).toBe(savedRunning[i] as number);
    expect(result.ran[0]).toBe(savedRunning[i] as number);
    expect(result.ran.at(-1)).toBe(79);
    const requeue = (await manager.events(task.id, { limit: 500 })).items.find((e) => e.action === "requeue");
    expect(requeue?.reason).toContain("interrupted");
  }

  await Bun.sleep(100);
  expect((await manager.require(ids.paused)).status).toBe("PAUSED");
  await manager.resume(ids.paused);
  const resumed = await untilStatus(manager, ids.paused, ["FINISHED"], 30_000);
  expect((resumed.result as { startedAt: number }).startedAt).toBe(pausedAt);

  const delayed = await manager.require(ids.delayed);
  expect(delayed.status).toBe("PENDING");
  expect(delayed.runAt).toBeGreaterThan(Date.now());
  expect((await manager.require(ids.finished)).status).toBe("FINISHED");
  for (const id of [ids.finished, ...ids.running, ids.paused]) {
    const finishes = (await manager.events(id, { limit: 500 })).items.filter(
      (e) => e.toStatus === "FINISHED",
    );
    expect(finishes.length).toBe(1);
  }
  expect(await statusPath(manager, ids.finished)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
}, 90_000);
