import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DatabaseInUseError,
  rekeyDatabase,
  SqliteSyncStore,
  silentLogger,
  TaskManager,
  type TaskManagerOptions,
  UndecryptableValueError,
} from "../../src/index.ts";
import { keyId, parseKey, ValueCipher } from "../../src/store/index.ts";
import { tempDir, untilStatus } from "../helpers.ts";
import { body, startServer } from "../http/server.ts";

const MARKER_TASKS = new URL("../fixtures/marker-tasks.ts", import.meta.url);
const newKey = () => randomBytes(32).toString("base64");

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function workDir(): string {
  const dir = tempDir("kiln-enc-");
  cleanups.push(dir.remove);
  return join(dir.path, "kiln.db");
}

/** The markers of `m` that occur anywhere in the database file, its WAL or its shared memory. */
function markersOnDisk(dbPath: string, m: string): string[] {
  const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((file) => existsSync(file));
  const bytes = files.map((file) => readFileSync(file));
  return [`PARAMS-${m}`, `CHECKPOINT-${m}`, `RESULT-${m}`].filter((marker) =>
    bytes.some((content) => content.includes(marker)),
  );
}

async function openManager(dbPath: string, options: Partial<TaskManagerOptions> = {}) {
  const manager = new TaskManager({ db: dbPath, concurrency: 2, logger: silentLogger, ...options });
  await manager.load(MARKER_TASKS);
  return manager;
}

/** One task FINISHED (params + result) and one PAUSED mid-way (params + checkpoint), markers from `m`. */
async function runMarkerTasks(manager: TaskManager, m: string) {
  const finished = (await manager.create("marker", { marker: `PARAMS-${m}`, steps: 2 })).task.id;
  const paused = (await manager.create("marker", { marker: `PARAMS-${m}`, steps: 100_000 })).task.id;
  await untilStatus(manager, finished, ["FINISHED"]);
  // Progress is written in the same telemetry tick as the checkpoints before it.
  await manager.waitFor(paused, (task) => (task.progress?.done ?? 0) > 2, 20_000);
  await manager.pause(paused);
  await untilStatus(manager, paused, ["PAUSED"]);
  return { finished, paused };
}

async function expectPlaintextApi(
  manager: TaskManager,
  ids: { finished: string; paused: string },
  m: string,
) {
  const finished = await manager.require(ids.finished);
  expect(finished.params).toEqual({ marker: `PARAMS-${m}`, steps: 2 });
  expect(finished.result).toEqual({ echo: `RESULT-${m}` });
  const paused = await manager.require(ids.paused);
  expect(paused.params).toEqual({ marker: `PARAMS-${m}`, steps: 100_000 });
  expect(paused.checkpoint).toMatchObject({ note: `CHECKPOINT-${m}` });
}

/** The stored text of each task's params, straight from SQLite. */
function storedParams(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .query<{ params: string }, []>("SELECT params FROM tasks ORDER BY id")
      .all()
      .map((row) => row.params);
  } finally {
    db.close();
  }
}

/** The stored text of each schedule's params, straight from SQLite. */
function storedScheduleParams(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .query<{ params: string }, []>("SELECT params FROM schedules ORDER BY id")
      .all()
      .map((row) => row.params);
  } finally {
    db.close();
  }
}

/** A paused schedule of the marker task, its params carrying `PARAMS-<m>` (so markersOnDisk sees them). */
async function markerSchedule(manager: TaskManager, m: string): Promise<string> {
  const schedule = await manager.schedules.create({
    id: "nightly-marker",
    name: "marker",
    cron: "0 3 * * *",
    params: { marker: `PARAMS-${m}-schedule`, steps: 1 },
    paused: true,
  });
  return schedule.id;
}

async function expectPlaintextSchedule(manager: TaskManager, id: string, m: string) {
  expect((await manager.schedules.require(id)).params).toEqual({ marker: `PARAMS-${m}-schedule`, steps: 1 });
}

describe("encryption at rest", () => {
  test("with a key, params, results and checkpoints appear nowhere in the files; the API reads them back", async () => {
    const dbPath = workDir();
    const key = newKey();
    const m = crypto.randomUUID().slice(0, 12);
    const manager = await openManager(dbPath, { encryptionKey: key });
    await manager.start();
    const ids = await runMarkerTasks(manager, m);
    expectPlaintextApi(manager, ids, m);
    const schedule = await markerSchedule(manager, m);
    await expectPlaintextSchedule(manager, schedule, m);
    // A fire gives its task the schedule's params as they were written.
    const fired = await manager.schedules.trigger(schedule);
    expect(fired.params).toEqual({ marker: `PARAMS-${m}-schedule`, steps: 1 });
    await untilStatus(manager, fired.id, ["FINISHED"]);
    // While it runs, with the WAL live…
    expect(existsSync(`${dbPath}-wal`)).toBe(true);
    expect(markersOnDisk(dbPath, m)).toEqual([]);
    const keyPrefix = `kiln:v1:${keyId(parseKey(key))}:`;
    expect(storedParams(dbPath).every((value) => value.startsWith(keyPrefix))).toBe(true);
    expect(storedScheduleParams(dbPath)).toEqual([expect.stringMatching(new RegExp(`^${keyPrefix}`))]);
    await manager.shutdown();
    // …and after the WAL was checkpointed into the main file.
    expect(markersOnDisk(dbPath, m)).toEqual([]);

    const again = await openManager(dbPath, { encryptionKey: key });
    cleanups.push(() => again.shutdown());
    await again.start();
    expectPlaintextApi(again, ids, m);
    await expectPlaintextSchedule(again, schedule, m);
    // The decrypted checkpoint reaches the worker: the task resumes from its saved step.
    const saved = ((await again.require(ids.paused)).checkpoint as { step: number }).step;
    expect(saved).toBeGreaterThan(0);
    const logged = (await again.logs(ids.paused, { limit: 500 })).items.length;
    await again.resume(ids.paused);
    let resumedAt: string | undefined;
    for (let i = 0; i < 400 && resumedAt === undefined; i++) {
      await Bun.sleep(25);
      resumedAt = (await again.logs(ids.paused, { limit: 500 })).items[logged]?.message;
    }
    expect(resumedAt).toBe(`step ${saved}`);
    await again.stop(ids.paused);
    await untilStatus(again, ids.paused, ["STOPPED"]);
  });

  test("without a key the same markers are in the file (the check above can fail)", async () => {
    const dbPath = workDir();
    const m = crypto.randomUUID().slice(0, 12);
    const manager = await openManager(dbPath);
    await manager.start();
    const ids = await runMarkerTasks(manager, m);
    expectPlaintextApi(manager, ids, m);
    await markerSchedule(manager, m);
    await manager.shutdown();
    expect(markersOnDisk(dbPath, m)).toEqual([`PARAMS-${m}`, `CHECKPOINT-${m}`, `RESULT-${m}`]);
    expect(JSON.parse(storedScheduleParams(dbPath)[0] ?? "null")).toEqual({
      marker: `PARAMS-${m}-schedule`,
      steps: 1,
    });
  });

  test("rotation: rekey from A to B, then readable with B alone and refused with A alone", async () => {
    const dbPath = workDir();
    const [keyA, keyB] = [newKey(), newKey()];
    const m = crypto.randomUUID().slice(0, 12);
    const first = await openManager(dbPath, { encryptionKey: keyA });
    await first.start();
    const ids = await runMarkerTasks(first, m);
    const schedule = await markerSchedule(first, m);
    await first.shutdown();

    // B writes, A still reads: a server in the middle of a rotation sees every row.
    const both = await openManager(dbPath, { encryptionKey: keyB, decryptionKeys: [keyA] });
    await both.start();
    expectPlaintextApi(both, ids, m);
    await both.shutdown();

    const batches: number[] = [];
    const report = rekeyDatabase(
      dbPath,
      { encryptionKey: keyB, decryptionKeys: [keyA] },
      { batchSize: 1, onBatch: (r) => batches.push(r.scanned) },
    );
    expect(report).toEqual({ scanned: 2, rewritten: 2, batches: 2, schedules: { scanned: 1, rewritten: 1 } });
    expect(batches).toEqual([1, 2]);
    const idB = keyId(parseKey(keyB));
    expect(storedParams(dbPath).every((value) => value.startsWith(`kiln:v1:${idB}:`))).toBe(true);
    expect(storedScheduleParams(dbPath)).toEqual([expect.stringMatching(new RegExp(`^kiln:v1:${idB}:`))]);
    expect(markersOnDisk(dbPath, m)).toEqual([]);
    // A second run finds nothing left to do.
    expect(rekeyDatabase(dbPath, { encryptionKey: keyB })).toMatchObject({
      scanned: 2,
      rewritten: 0,
      schedules: { scanned: 1, rewritten: 0 },
    });

    const onlyB = await openManager(dbPath, { encryptionKey: keyB });
    await onlyB.start();
    expectPlaintextApi(onlyB, ids, m);
    await expectPlaintextSchedule(onlyB, schedule, m);
    await onlyB.shutdown();

    const onlyA = await openManager(dbPath, { encryptionKey: keyA });
    let refused: unknown;
    try {
      await onlyA.start();
    } catch (error) {
      refused = error;
    }
    await onlyA.shutdown();
    expect(refused).toBeInstanceOf(UndecryptableValueError);
    expect((refused as Error).message).toContain(`is encrypted with key ${idB}, which is not configured`);

    const noKey = new SqliteSyncStore({ path: dbPath });
    try {
      expect(() => noKey.getTask(ids.finished)).toThrow(
        `tasks.params of task ${ids.finished} is encrypted with key ${idB}, but no encryption key is configured`,
      );
      expect(() => noKey.schedules.getSchedule(schedule)).toThrow(
        `schedules.params of schedule ${schedule} is encrypted with key ${idB}, but no encryption key is configured`,
      );
    } finally {
      noKey.close();
    }
  });

  test("a database written in plaintext is encrypted by rekey, leaving no plaintext in the file", async () => {
    const dbPath = workDir();
    const key = newKey();
    const m = crypto.randomUUID().slice(0, 12);
    const manager = await openManager(dbPath);
    await manager.start();
    const ids = await runMarkerTasks(manager, m);
    const schedule = await markerSchedule(manager, m);
    await manager.shutdown();
    expect(markersOnDisk(dbPath, m)).toHaveLength(3);

    // Switching the key on first: old plaintext rows stay readable next to new encrypted ones.
    const mixed = await openManager(dbPath, { encryptionKey: key });
    await mixed.start();
    expectPlaintextApi(mixed, ids, m);
    await expectPlaintextSchedule(mixed, schedule, m);
    const fresh = (await mixed.create("marker", { marker: `PARAMS-${m}x`, steps: 1 })).task.id;
    await untilStatus(mixed, fresh, ["FINISHED"]);
    await mixed.shutdown();

    const report = rekeyDatabase(dbPath, { encryptionKey: key });
    expect(report).toEqual({ scanned: 3, rewritten: 2, batches: 1, schedules: { scanned: 1, rewritten: 1 } });
    expect(markersOnDisk(dbPath, m)).toEqual([]);
    expect(storedScheduleParams(dbPath)[0]).toStartWith(`kiln:v1:${keyId(parseKey(key))}:`);
    const reopened = await openManager(dbPath, { encryptionKey: key });
    cleanups.push(() => reopened.shutdown());
    await reopened.start();
    expectPlaintextApi(reopened, ids, m);
    expect((await reopened.require(fresh)).result).toEqual({ echo: `RESULT-${m}x` });
    await expectPlaintextSchedule(reopened, schedule, m);
  });

  test("rekey refuses to run while a server owns the database", async () => {
    const dbPath = workDir();
    const manager = await openManager(dbPath);
    cleanups.push(() => manager.shutdown());
    await manager.start();
    expect(() => rekeyDatabase(dbPath, { encryptionKey: newKey() })).toThrow(DatabaseInUseError);
  });

  test("over HTTP, a task under a key the server lacks is a 500 that says which key, others still read", async () => {
    const dbPath = workDir();
    const [lost, current] = [newKey(), newKey()];
    const task = (id: string) => ({
      id,
      taskName: "marker",
      status: "PAUSED" as const,
      params: { marker: "PARAMS-x", steps: 1 },
      priority: 0,
      runAt: null,
      idempotencyKey: null,
      tags: null,
    });
    const event = {
      fromStatus: null,
      toStatus: "PAUSED" as const,
      action: "create" as const,
      reason: null,
      actor: null,
      source: null,
    };
    const old = Bun.randomUUIDv7();
    const withLost = new SqliteSyncStore({ path: dbPath, encryptionKey: lost });
    withLost.migrate();
    withLost.createTask(task(old), event);
    withLost.transition(
      old,
      ["PAUSED"],
      { status: "STOPPED", endTime: Date.now() },
      { ...event, action: "stop" },
    );
    withLost.close();
    // Newer rows under the current key: start-up checks the newest ones and lets this through.
    const withCurrent = new SqliteSyncStore({ path: dbPath, encryptionKey: current });
    const recent: string[] = [];
    for (let i = 0; i < 100; i++) {
      const id = Bun.randomUUIDv7();
      recent.push(id);
      withCurrent.createTask(task(id), event);
    }
    withCurrent.close();

    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => errors.push(message) };
    const server = await startServer({ db: dbPath, encryptionKey: current }, { logger });
    cleanups.push(() => server.stop());
    const refused = await server.call(`/tasks/${old}`);
    expect(refused.status).toBe(500);
    const problem = await body<{ error: { code: string; message: string } }>(refused);
    expect(problem.error.code).toBe("undecryptable");
    expect(problem.error.message).toContain(
      `is encrypted with key ${keyId(parseKey(lost))}, which is not configured`,
    );
    expect(errors).toContain("a task's stored values cannot be decrypted");
    const readable = await server.call(`/tasks/${recent[0]}`);
    expect(readable.status).toBe(200);
    expect(await body<{ params: unknown }>(readable)).toMatchObject({ params: { marker: "PARAMS-x" } });
  });
});

describe("ValueCipher", () => {
  const cipher = new ValueCipher({ encryptionKey: newKey() });

  test("a fresh IV per value: the same plaintext encrypts differently each time", () => {
    const a = cipher.encrypt('{"a":1}', "tasks.params of task 1");
    const b = cipher.encrypt('{"a":1}', "tasks.params of task 1");
    expect(a).not.toBe(b);
    expect(cipher.decrypt(a, "tasks.params of task 1")).toBe('{"a":1}');
  });

  test("an altered value or one moved to another row does not decrypt", () => {
    const stored = cipher.encrypt('{"a":1}', "tasks.params of task 1");
    expect(() => cipher.decrypt(stored, "tasks.params of task 2")).toThrow(UndecryptableValueError);
    expect(() => cipher.decrypt(stored, "tasks.result of task 1")).toThrow("does not authenticate");
    const body = Buffer.from(stored.split(":")[3] ?? "", "base64");
    body[20] = (body[20] ?? 0) ^ 1;
    const altered = `${stored.split(":").slice(0, 3).join(":")}:${body.toString("base64")}`;
    expect(() => cipher.decrypt(altered, "tasks.params of task 1")).toThrow("does not authenticate");
    expect(() => cipher.decrypt(stored.replace("kiln:v1:", "kiln:v9:"), "x")).toThrow("format v9");
  });

  test("keys: 64 hex characters or base64 of 32 bytes; anything else is refused without echoing it", () => {
    const bytes = randomBytes(32);
    expect(parseKey(bytes.toString("hex"))).toEqual(new Uint8Array(bytes));
    expect(parseKey(bytes.toString("base64"))).toEqual(new Uint8Array(bytes));
    expect(parseKey(bytes.toString("base64url"))).toEqual(new Uint8Array(bytes));
    for (const bad of ["secret-password", randomBytes(16).toString("base64"), `${bytes.toString("hex")}0`]) {
      let message = "";
      try {
        parseKey(bad);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("32 random bytes");
      expect(message).not.toContain(bad);
    }
  });
});
