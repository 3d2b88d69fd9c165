import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { keyId, parseKey, UndecryptableValueError } from "../../../src/store/index.ts";
import { createEvent, newSchedule, newTask, rejection, type SuiteContext } from "./harness.ts";

const newKey = () => randomBytes(32).toString("base64");
const SECRET = "SCHEDULE-SECRET-ß-🔑";
const sealedBy = (key: string) => `kiln:v1:${keyId(parseKey(key))}:`;

/** A schedule's params are a secret like a task's: the same cipher, format and key handling. */
export function scheduleEncryptionTests({ open }: SuiteContext): void {
  describe("schedule params encryption", () => {
    test("with a key, params are stored as a ciphertext and every read gives them back as written", async () => {
      const key = newKey();
      const { store, rawScheduleParams } = await open({ encryptionKey: key });
      const created = await store.createSchedule(newSchedule({ params: { secret: SECRET, n: [1, 2] } }));
      expect(created.params).toEqual({ secret: SECRET, n: [1, 2] });
      const raw = await rawScheduleParams(created.id);
      expect(raw).not.toContain("SECRET");
      expect(raw).toContain(sealedBy(key));
      expect((await store.getSchedule(created.id))?.params).toEqual({ secret: SECRET, n: [1, 2] });
      expect((await store.listSchedules()).map((s) => s.params)).toEqual([{ secret: SECRET, n: [1, 2] }]);

      // A patch that leaves params alone keeps them readable; one that sets them encrypts them.
      expect((await store.updateSchedule(created.id, { paused: true }))?.params).toEqual({
        secret: SECRET,
        n: [1, 2],
      });
      const updated = await store.updateSchedule(created.id, { params: `${SECRET}-2` });
      expect(updated?.params).toBe(`${SECRET}-2`);
      const rawUpdated = await rawScheduleParams(created.id);
      expect(rawUpdated).not.toContain("SECRET");
      expect(rawUpdated).toContain(sealedBy(key));
      expect(rawUpdated).not.toBe(raw);
      // Also inside a transaction (where a firing reads its schedule).
      const locked = await store.transaction((tx) => tx.getSchedule(created.id, { lock: true }));
      expect(locked?.params).toBe(`${SECRET}-2`);
      await store.verifyReadable();
    });

    test("a schedule without params stores SQL NULL, with a key too", async () => {
      const { store, rawScheduleParams } = await open({ encryptionKey: newKey() });
      const schedule = await store.createSchedule(newSchedule({ params: undefined }));
      expect(await rawScheduleParams(schedule.id)).toBeNull();
      expect((await store.getSchedule(schedule.id))?.params).toBeUndefined();
    });

    test("without a key, params are stored as plain JSON", async () => {
      const { store, rawScheduleParams } = await open();
      const schedule = await store.createSchedule(newSchedule({ params: { secret: SECRET } }));
      expect(JSON.parse((await rawScheduleParams(schedule.id)) ?? "null")).toEqual({ secret: SECRET });
    });

    test("a plaintext string shaped like a ciphertext reads back as written, with a key or without", async () => {
      const key = newKey();
      const body = randomBytes(40).toString("base64");
      const lookalikes = [
        `kiln:v1:${keyId(parseKey(key))}:${body}`,
        `kiln:v1:AbCd-_12:${body}`,
        "kiln:v1:x:",
      ];
      for (const options of [{}, { encryptionKey: key }]) {
        const { store, rawScheduleParams } = await open(options);
        for (const [i, lookalike] of lookalikes.entries()) {
          const schedule = await store.createSchedule(
            newSchedule({ id: `lookalike-${i}`, params: lookalike }),
          );
          const where = { encrypted: "encryptionKey" in options, lookalike };
          expect({ ...where, read: (await store.getSchedule(schedule.id))?.params }).toEqual({
            ...where,
            read: lookalike,
          });
          if (!("encryptionKey" in options)) {
            expect(JSON.parse((await rawScheduleParams(schedule.id)) ?? "null")).toBe(lookalike);
          }
        }
        await store.verifyReadable();
      }
    });

    test("schedules written before a key was set stay readable with it", async () => {
      const { store, reopen } = await open();
      const plain = await store.createSchedule(newSchedule({ params: { was: "plain" } }));
      const keyed = await reopen({ encryptionKey: newKey() });
      await keyed.verifyReadable();
      expect((await keyed.getSchedule(plain.id))?.params).toEqual({ was: "plain" });
    });

    test("another key, or none, is refused with UndecryptableValueError naming the schedule", async () => {
      const key = newKey();
      const { store, reopen } = await open({ encryptionKey: key });
      const schedule = await store.createSchedule(newSchedule({ params: { secret: SECRET } }));
      for (const options of [{ encryptionKey: newKey() }, {}]) {
        const other = await reopen(options);
        const refused = await rejection(other.verifyReadable());
        expect(refused).toBeInstanceOf(UndecryptableValueError);
        expect((refused as UndecryptableValueError).code).toBe("undecryptable");
        expect((refused as Error).message).toStartWith(
          `schedules.params of schedule ${schedule.id} is encrypted with key ${keyId(parseKey(key))}`,
        );
        expect(await rejection(other.getSchedule(schedule.id))).toBeInstanceOf(UndecryptableValueError);
        expect(await rejection(other.listSchedules())).toBeInstanceOf(UndecryptableValueError);
      }
    });

    test("decryption keys read a former key's schedules; params set now are under the current key", async () => {
      const oldKey = newKey();
      const { store, reopen, rawScheduleParams } = await open({ encryptionKey: oldKey });
      const schedule = await store.createSchedule(newSchedule({ params: { secret: SECRET } }));
      const newer = newKey();
      const rotated = await reopen({ encryptionKey: newer, decryptionKeys: [oldKey] });
      await rotated.verifyReadable();
      expect((await rotated.getSchedule(schedule.id))?.params).toEqual({ secret: SECRET });
      await rotated.updateSchedule(schedule.id, { params: { secret: SECRET, again: true } });
      expect(await rawScheduleParams(schedule.id)).toContain(sealedBy(newer));
      const former = await reopen({ encryptionKey: oldKey });
      expect(await rejection(former.getSchedule(schedule.id))).toBeInstanceOf(UndecryptableValueError);
    });

    test("a ciphertext moved from another schedule or from a task's params does not decrypt", async () => {
      const { store, rawScheduleParams, rawScheduleWrite, rawColumn } = await open({
        encryptionKey: newKey(),
      });
      const a = await store.createSchedule(newSchedule({ id: "a", params: { secret: SECRET } }));
      const b = await store.createSchedule(newSchedule({ id: "b", params: { other: true } }));
      await rawScheduleWrite(b.id, (await rawScheduleParams(a.id)) ?? "");
      expect(await rejection(store.getSchedule(b.id))).toBeInstanceOf(UndecryptableValueError);
      // A task whose id is the schedule's: only the column in the context tells them apart.
      const task = newTask({ id: a.id, params: { secret: SECRET } });
      await store.createTask(task, createEvent());
      await rawScheduleWrite(a.id, (await rawColumn(task.id, "params")) ?? "");
      expect(await rejection(store.getSchedule(a.id))).toBeInstanceOf(UndecryptableValueError);
    });
  });
}
