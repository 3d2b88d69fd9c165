// A schedule's params on PostgreSQL with a key: stored as a ciphertext, read as written by the
// manager, and given in plaintext to the task a fire creates (whose own params are sealed again).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { PostgresTaskStore, silentLogger, TaskManager, UndecryptableValueError } from "../../src/index.ts";
import { keyId, parseKey } from "../../src/store/index.ts";
import { untilStatus } from "../helpers.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";

const MARKER_TASKS = new URL("../fixtures/marker-tasks.ts", import.meta.url);

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
// DROP DATABASE … WITH (FORCE) waits up to 5 s for the backends it ends: more than a hook's default.
afterAll(async () => {
  await database.drop();
}, 30_000);

async function startOn(url: string, encryptionKey: string) {
  const store = new PostgresTaskStore({ url, encryptionKey });
  const manager = new TaskManager({ store, concurrency: 2, stopGraceMs: 2_000, logger: silentLogger });
  await manager.load(MARKER_TASKS);
  await manager.start();
  return {
    manager,
    stop: async () => {
      await manager.shutdown();
      await store.close();
    },
  };
}

test("a schedule's params are a ciphertext in PostgreSQL and plaintext to the manager and its fired task", async () => {
  const key = randomBytes(32).toString("base64");
  const params = { marker: "PARAMS-schedule-secret", steps: 1 };
  const { manager, stop } = await startOn(database.url, key);
  let taskId: string;
  try {
    const schedule = await manager.schedules.create({
      id: "nightly",
      name: "marker",
      cron: "0 3 * * *",
      params,
      paused: true,
    });
    expect(schedule.params).toEqual(params);
    const fired = await manager.schedules.trigger("nightly");
    taskId = fired.id;
    expect(fired.params).toEqual(params);
    await untilStatus(manager, taskId, ["FINISHED"]);
    expect((await manager.schedules.require("nightly")).params).toEqual(params);
  } finally {
    await stop();
  }

  const sql = rawClient(database.url);
  try {
    const [row] = await sql<{ params: string }[]>`SELECT params::text AS params FROM schedules`;
    expect(row?.params).toStartWith(`"kiln:v1:${keyId(parseKey(key))}:`);
    expect(row?.params).not.toContain("schedule-secret");
    const [task] = await sql<
      { params: string }[]
    >`SELECT params::text AS params FROM tasks WHERE id = ${taskId}`;
    expect(task?.params).not.toContain("schedule-secret");
  } finally {
    await sql.end();
  }

  // Another key is refused at start-up, on the schedule if not on the task before it.
  const store = new PostgresTaskStore({
    url: database.url,
    encryptionKey: randomBytes(32).toString("base64"),
  });
  const other = new TaskManager({ store, logger: silentLogger });
  await other.load(MARKER_TASKS);
  let refused: unknown;
  try {
    await other.start();
  } catch (error) {
    refused = error;
  }
  await other.shutdown();
  await store.close();
  expect(refused).toBeInstanceOf(UndecryptableValueError);
});
