// `kiln rekey` on PostgreSQL (rekeyPostgresDatabase) over values a store wrote, tasks' and
// schedules': ciphertexts under the former key and plaintext, a plaintext string shaped like a
// ciphertext included; the table is vacuumed at the end.
import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { keyId, PostgresTaskStore, parseKey, UndecryptableValueError } from "../../../src/store/index.ts";
import { rekeyPostgresDatabase } from "../../../src/store/postgres/rekey.ts";
import { createEvent, newSchedule, newTask } from "../conformance/harness.ts";
import { rawClient, testDatabase } from "./database.ts";

const newKey = () => randomBytes(32).toString("base64");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function storeOn(url: string, keys: { encryptionKey?: string; decryptionKeys?: string[] } = {}) {
  const store = new PostgresTaskStore({ url, max: 2, ...keys });
  cleanups.push(() => store.close());
  await store.migrate();
  return store;
}

test("rekey keeps a plaintext string shaped like a ciphertext as it was, beside real ciphertexts", async () => {
  const database = await testDatabase();
  cleanups.push(database.drop);
  const [keyA, keyB] = [newKey(), newKey()];
  const lookalike = `kiln:v1:AbCd1234:${randomBytes(30).toString("base64")}`;
  const plain = await storeOn(database.url);
  const plainTask = newTask({ params: lookalike });
  await plain.createTask(plainTask, createEvent());
  const underA = await storeOn(database.url, { encryptionKey: keyA });
  const sealedTask = newTask({ params: lookalike });
  const secretTask = newTask({ params: { secret: "under A" } });
  for (const task of [sealedTask, secretTask]) await underA.createTask(task, createEvent());

  const sql = rawClient(database.url);
  cleanups.push(() => sql.end());
  const [{ before } = { before: "" }] = await sql<{ before: string }[]>`SELECT now()::text AS before`;
  const report = await rekeyPostgresDatabase(database.url, { encryptionKey: keyB, decryptionKeys: [keyA] });
  expect(report).toMatchObject({ scanned: 3, rewritten: 3 });

  const underB = await storeOn(database.url, { encryptionKey: keyB });
  expect((await underB.getTask(plainTask.id))?.params).toBe(lookalike);
  expect((await underB.getTask(sealedTask.id))?.params).toBe(lookalike);
  expect((await underB.getTask(secretTask.id))?.params).toEqual({ secret: "under A" });
  const rows = await sql<{ params: string }[]>`SELECT params::text AS params FROM tasks`;
  // Every value is under B now: the plaintext one was encrypted, not left as a "ciphertext".
  for (const row of rows) expect(row.params).not.toContain(lookalike);
  await underB.verifyReadable();
  // The old values' row versions are vacuumed at the end of rekey, not left until autovacuum.
  // (n_dead_tup is no proof either way: the rekey session's own counts may reach the statistics
  // after the vacuum's.)
  const [stats] = await sql<{ vacuumed: boolean }[]>`
    SELECT coalesce(last_vacuum >= ${before}::timestamptz, false) AS vacuumed
    FROM pg_stat_user_tables WHERE relname = 'tasks'`;
  expect(stats?.vacuumed).toBe(true);
});

test("rekey writes every schedule's params under the new key: former-key ciphertexts, plaintext and lookalikes", async () => {
  const database = await testDatabase();
  cleanups.push(database.drop);
  const [keyA, keyB] = [newKey(), newKey()];
  const lookalike = `kiln:v1:AbCd1234:${randomBytes(30).toString("base64")}`;
  const plain = await storeOn(database.url);
  await plain.createSchedule(newSchedule({ id: "plain", params: { secret: "plain" } }));
  await plain.createSchedule(newSchedule({ id: "plain-lookalike", params: lookalike }));
  await plain.createSchedule(newSchedule({ id: "none", params: undefined }));
  const underA = await storeOn(database.url, { encryptionKey: keyA });
  await underA.createSchedule(newSchedule({ id: "sealed", params: { secret: "under A" } }));

  const report = await rekeyPostgresDatabase(database.url, { encryptionKey: keyB, decryptionKeys: [keyA] });
  expect(report.schedules).toEqual({ scanned: 4, rewritten: 3 });

  const sql = rawClient(database.url);
  cleanups.push(() => sql.end());
  const rows = await sql<{ id: string; params: string | null }[]>`
    SELECT id, params::text AS params FROM schedules ORDER BY id`;
  const idB = keyId(parseKey(keyB));
  expect(rows.map((row) => [row.id, row.params?.startsWith(`"kiln:v1:${idB}:`) ?? null])).toEqual([
    ["none", null],
    ["plain", true],
    ["plain-lookalike", true],
    ["sealed", true],
  ]);
  const onlyB = await storeOn(database.url, { encryptionKey: keyB });
  await onlyB.verifyReadable();
  expect(Object.fromEntries((await onlyB.listSchedules()).map((s) => [s.id, s.params]))).toEqual({
    none: undefined,
    plain: { secret: "plain" },
    "plain-lookalike": lookalike,
    sealed: { secret: "under A" },
  });
  // A second run finds nothing left to do; the former key alone reads none of them now.
  const again = await rekeyPostgresDatabase(database.url, { encryptionKey: keyB });
  expect(again.schedules).toEqual({ scanned: 4, rewritten: 0 });
  const onlyA = await storeOn(database.url, { encryptionKey: keyA });
  await expect(onlyA.getSchedule("sealed")).rejects.toBeInstanceOf(UndecryptableValueError);
});
