// Idempotency keys in the engine, on each store: a repeated key with the same request returns
// the first task, with another request it is a conflict, params encrypted at rest compare as
// their plaintext, and submits of one turn (one commit) with one key give one task.
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type CreateResult, IdempotencyConflictError } from "../../src/index.ts";
import { startManager, statusPath, type TestManager, untilStatus } from "../helpers.ts";
import { rawClient } from "../store/postgres/database.ts";
import { makeStoreOptions, STORE_KINDS, type StoreKind } from "../stores.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A started manager over a fresh store of `kind`, closed after the test. */
async function managerOn(
  kind: StoreKind,
  encryptionKey?: Buffer,
): Promise<TestManager & { url: string | undefined }> {
  const store = await makeStoreOptions(kind, encryptionKey ? { encryptionKey } : {});
  cleanups.push(store.close);
  const env = await startManager(store.options);
  cleanups.push(env.close);
  return { ...env, url: store.url };
}

describe.each(STORE_KINDS)("idempotency keys on %s", (kind) => {
  test("the same idempotency key with the same name and params returns the first task", async () => {
    const env = await managerOn(kind);
    const first = await env.manager.create("echo", { value: { a: 1, b: [1, 2] } }, { idempotencyKey: "k1" });
    // Key order does not matter; the params are compared as values.
    const second = await env.manager.create("echo", { value: { b: [1, 2], a: 1 } }, { idempotencyKey: "k1" });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.task.id).toBe(first.task.id);
    // Params equal once the schema's defaults are applied are the same request.
    const withDefault = await env.manager.create(
      "steps",
      { steps: 1 },
      { idempotencyKey: "k2", paused: true },
    );
    const spelledOut = await env.manager.create("steps", { steps: 1, delayMs: 5 }, { idempotencyKey: "k2" });
    expect(spelledOut).toMatchObject({ created: false, task: { id: withDefault.task.id } });
  });

  test("an idempotency key reused with other params or another name is a 409 conflict", async () => {
    const env = await managerOn(kind);
    const first = await env.manager.create("echo", { value: 1 }, { idempotencyKey: "k1" });
    const conflicts: Array<[string, unknown, RegExp]> = [
      ["echo", { value: 2 }, /with other params/],
      ["echo", { value: "1" }, /with other params/],
      ["echo", { value: null }, /with other params/],
      ["steps", { steps: 1 }, /with another task name \("echo"\)/],
    ];
    for (const [name, params, message] of conflicts) {
      let thrown: unknown;
      try {
        await env.manager.create(name, params, { idempotencyKey: "k1" });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(IdempotencyConflictError);
      const conflict = thrown as IdempotencyConflictError;
      expect(conflict.httpStatus).toBe(409);
      expect(conflict.code).toBe("idempotency_conflict");
      expect(conflict.message).toMatch(message);
      expect(conflict.message).toContain(`"k1" was already used for task ${first.task.id}`);
      expect(conflict.details).toEqual({ taskId: first.task.id, taskName: "echo" });
    }
    expect((await env.manager.list()).items.map((task) => task.id)).toEqual([first.task.id]);
  });

  test("with params encrypted at rest, a repeated key is compared against the decrypted params", async () => {
    const env = await managerOn(kind, randomBytes(32));
    const params = { value: { card: "4111-1111", n: 1 } };
    const first = await env.manager.create("echo", params, { idempotencyKey: "pay-1" });
    expect(await env.manager.create("echo", params, { idempotencyKey: "pay-1" })).toMatchObject({
      created: false,
      task: { id: first.task.id },
    });
    await expect(
      (async () =>
        env.manager.create("echo", { value: { card: "4111-1111", n: 2 } }, { idempotencyKey: "pay-1" }))(),
    ).rejects.toThrow(IdempotencyConflictError);
  });

  test("submits of one turn with one key, written in one commit, give one task", async () => {
    const env = await managerOn(kind);
    const { manager } = env;
    // No await between them: one event-loop turn, so one commit (CreateBatch).
    const settled = await Promise.allSettled([
      manager.submit("echo", { value: "a" }, { idempotencyKey: "turn" }),
      manager.submit("echo", { value: "other" }),
      manager.submit("echo", { value: "a" }, { idempotencyKey: "turn" }),
      manager.submit("echo", { value: "a" }, { idempotencyKey: "turn" }),
      manager.submit("echo", { value: "b" }, { idempotencyKey: "turn" }),
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    const value = (i: number) => (settled[i] as PromiseFulfilledResult<CreateResult>).value;
    const keyed = value(0).task.id;
    expect(value(0).created).toBe(true);
    expect(value(1).created).toBe(true);
    expect(value(2)).toMatchObject({ created: false, task: { id: keyed } });
    expect(value(3)).toMatchObject({ created: false, task: { id: keyed } });
    expect(((settled[4] as PromiseRejectedResult).reason as { code?: string }).code).toBe(
      "idempotency_conflict",
    );
    const ids = (await manager.list({ limit: 10 })).items.map((task) => task.id);
    expect(ids.sort()).toEqual([keyed, value(1).task.id].sort());
    await untilStatus(manager, keyed, ["FINISHED"]);
    expect(await statusPath(manager, keyed)).toEqual(["PENDING", "RUNNING", "FINISHED"]);
    if (env.url) {
      // Rows written by one transaction carry its id in xmin: the turn really was one commit.
      // (The create events, never updated, unlike the task rows once they run.)
      const sql = rawClient(env.url);
      try {
        const rows = await sql<
          { xmin: string }[]
        >`SELECT xmin::text AS xmin FROM task_events WHERE action = 'create'`;
        expect(rows).toHaveLength(2);
        expect(new Set(rows.map((row) => row.xmin)).size).toBe(1);
      } finally {
        await sql.end();
      }
    }
  });
});
