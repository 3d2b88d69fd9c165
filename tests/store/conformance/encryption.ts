import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { JsonText, keyId, parseKey, UndecryptableValueError } from "../../../src/store/index.ts";
import { createEvent, event, newTask, rejection, type SuiteContext } from "./harness.ts";

const newKey = () => randomBytes(32).toString("base64");
const SECRET = "SECRET-ß-🔑-marker";

export function encryptionTests({ open }: SuiteContext): void {
  describe("encryption", () => {
    /** A task whose params, result and checkpoint all hold the secret marker, written with `key`. */
    async function secretTask(key: string) {
      const under = await open({ encryptionKey: key });
      const task = newTask({ params: { secret: SECRET } });
      await under.store.createTask(task, createEvent());
      await under.store.transition(
        task.id,
        ["PENDING"],
        { status: "RUNNING", result: { secret: SECRET } },
        event("PENDING", "RUNNING", "start"),
      );
      await under.store.writeTelemetry({
        progress: new Map(),
        checkpoints: new Map([[task.id, { secret: SECRET }]]),
        logs: [],
      });
      return { ...under, id: task.id };
    }

    test("with a key, params, result and checkpoint are stored as ciphertext and read back as written", async () => {
      const key = newKey();
      const { store, rawColumn, id } = await secretTask(key);
      for (const column of ["params", "result", "checkpoint"] as const) {
        const raw = await rawColumn(id, column);
        expect({ column, holdsSecret: raw?.includes("SECRET") }).toEqual({ column, holdsSecret: false });
        expect(raw).toContain("kiln:v1:");
      }
      const read = await store.getTask(id);
      expect(read).toMatchObject({
        params: { secret: SECRET },
        result: { secret: SECRET },
        checkpoint: { secret: SECRET },
      });
      await store.verifyReadable();
    });

    test("a JsonText and a value set by a transition or update are encrypted too", async () => {
      const key = newKey();
      const { store, rawColumn } = await open({ encryptionKey: key });
      const task = newTask({ params: new JsonText(`{"secret":"${SECRET}"}`, { secret: SECRET }) });
      await store.createTask(task, createEvent());
      await store.updateTask(task.id, {
        checkpoint: new JsonText(`["${SECRET}"]`, [SECRET]),
        result: SECRET,
      });
      for (const column of ["params", "result", "checkpoint"] as const) {
        expect((await rawColumn(task.id, column))?.includes("SECRET")).toBe(false);
      }
      expect(await store.getTask(task.id)).toMatchObject({
        params: { secret: SECRET },
        result: SECRET,
        checkpoint: [SECRET],
      });
    });

    test("a plaintext string shaped like a ciphertext reads back as written, with a key or without", async () => {
      const key = newKey();
      const body = randomBytes(40).toString("base64");
      // Shaped exactly as the cipher writes: its prefix, a key id (the store's own key's too), base64.
      const lookalikes = [
        `kiln:v1:${keyId(parseKey(key))}:${body}`,
        `kiln:v1:AbCd-_12:${body}`,
        "kiln:v1:x:",
      ];
      for (const options of [{}, { encryptionKey: key }]) {
        const { store, rawColumn } = await open(options);
        for (const lookalike of lookalikes) {
          const task = newTask({ params: lookalike });
          await store.createTask(task, createEvent());
          await store.transition(
            task.id,
            ["PENDING"],
            { status: "RUNNING", result: new JsonText(JSON.stringify(lookalike), lookalike) },
            event("PENDING", "RUNNING", "start"),
          );
          await store.writeTelemetry({
            progress: new Map(),
            checkpoints: new Map([[task.id, lookalike]]),
            logs: [],
          });
          const where = { encrypted: "encryptionKey" in options, lookalike };
          const read = await store.getTask(task.id);
          expect({ ...where, values: [read?.params, read?.result, read?.checkpoint] }).toEqual({
            ...where,
            values: [lookalike, lookalike, lookalike],
          });
          if (!("encryptionKey" in options)) {
            // Stored as plaintext still: readable past kiln as the same string.
            expect(JSON.parse((await rawColumn(task.id, "params")) ?? "null")).toBe(lookalike);
          }
        }
        await store.verifyReadable();
      }
    });

    test("verifyReadable resolves on an empty store, with a key or without", async () => {
      await (await open()).store.verifyReadable();
      await (await open({ encryptionKey: newKey() })).store.verifyReadable();
    });

    test("a ciphertext copied into another row or column does not decrypt there", async () => {
      const { store, rawColumn, rawWrite } = await open({ encryptionKey: newKey() });
      const a = newTask({ params: { secret: SECRET } });
      const b = newTask({ params: { other: true } });
      await store.createTask(a, createEvent());
      await store.createTask(b, createEvent());
      const stolen = (await rawColumn(a.id, "params")) ?? "";
      await rawWrite(b.id, "params", stolen);
      expect(await rejection(store.getTask(b.id))).toBeInstanceOf(UndecryptableValueError);
      await rawWrite(a.id, "checkpoint", stolen);
      expect(await rejection(store.getTask(a.id))).toBeInstanceOf(UndecryptableValueError);
    });

    test("without a key, the same columns are stored as plain JSON", async () => {
      const { store, rawColumn } = await open();
      const task = newTask({ params: { secret: SECRET } });
      await store.createTask(task, createEvent());
      expect(JSON.parse((await rawColumn(task.id, "params")) ?? "null")).toEqual({ secret: SECRET });
    });

    test("a store with another key, or none, is refused by verifyReadable with UndecryptableValueError", async () => {
      const { reopen, id } = await secretTask(newKey());
      for (const options of [{ encryptionKey: newKey() }, {}]) {
        const other = await reopen(options);
        const error = await rejection(other.verifyReadable());
        expect(error).toBeInstanceOf(UndecryptableValueError);
        expect((error as UndecryptableValueError).code).toBe("undecryptable");
        expect(await rejection(other.getTask(id))).toBeInstanceOf(UndecryptableValueError);
      }
    });

    test("decryptionKeys read the rows written with a former key, and new rows are written with the current one", async () => {
      const oldKey = newKey();
      const { reopen, rawColumn, id } = await secretTask(oldKey);
      const rotated = await reopen({ encryptionKey: newKey(), decryptionKeys: [oldKey] });
      await rotated.verifyReadable();
      expect((await rotated.getTask(id))?.params).toEqual({ secret: SECRET });
      const fresh = newTask({ params: { secret: SECRET } });
      await rotated.createTask(fresh, createEvent());
      const keyIdOf = async (taskId: string) =>
        /kiln:v1:([^:]+):/.exec((await rawColumn(taskId, "params")) ?? "")?.[1];
      const oldId = await keyIdOf(id);
      const newId = await keyIdOf(fresh.id);
      expect(newId).toBeDefined();
      expect(newId).not.toBe(oldId);
      // The former key alone cannot read the new row.
      const former = await reopen({ encryptionKey: oldKey });
      expect(await rejection(former.verifyReadable())).toBeInstanceOf(UndecryptableValueError);
    });

    test("rows written before a key was set stay readable with it", async () => {
      const { store, reopen } = await open();
      const plain = newTask({ params: { was: "plain" } });
      await store.createTask(plain, createEvent());
      const keyed = await reopen({ encryptionKey: newKey() });
      await keyed.verifyReadable();
      expect((await keyed.getTask(plain.id))?.params).toEqual({ was: "plain" });
    });

    test("decryption keys without an encryption key are refused", async () => {
      await expect(open({ decryptionKeys: [newKey()] })).rejects.toThrow("decryption keys");
    });
  });
}
