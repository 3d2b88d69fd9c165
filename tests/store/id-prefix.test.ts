// Finding a task by a prefix of its id: one range of the primary key, in a real SQLite file.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AmbiguousIdError, TaskNotFoundError } from "../../src/engine/errors.ts";
import { findByIdOrPrefix } from "../../src/engine/id-prefix.ts";
import { SqliteSyncStore, SqliteTaskStore } from "../../src/store/index.ts";
import { newTaskRow, tempDir } from "../helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const CREATED = {
  fromStatus: null,
  toStatus: "PENDING",
  action: "create" as const,
  reason: null,
  actor: null,
  source: null,
};

function storeWith(ids: string[]): SqliteSyncStore {
  const dir = tempDir("kiln-prefix-");
  const store = new SqliteSyncStore({ path: join(dir.path, "kiln.db") });
  cleanups.push(dir.remove, () => store.close());
  store.migrate();
  store.batch(() => {
    for (const id of ids) store.createTask(newTaskRow({ id }), { ...CREATED, toStatus: "PENDING" });
  });
  return store;
}

const A1 = "0190aaaa-0000-7000-8000-000000000001";
const A2 = "0190aaaa-0000-7000-8000-000000000002";
const B = "0190aaab-0000-7000-8000-000000000001";
const C = "0190aaa~-0000-7000-8000-000000000001";

describe("idsWithPrefix", () => {
  test("finds the ids that start with the prefix, in id order, and no others", () => {
    const store = storeWith([B, A2, A1, C, "0190aab0-0000-7000-8000-000000000000"]);
    expect(store.idsWithPrefix("0190aaaa", 10)).toEqual([A1, A2]);
    expect(store.idsWithPrefix("0190aaab", 10)).toEqual([B]);
    expect(store.idsWithPrefix("0190aaa", 10)).toEqual([A1, A2, B, C]);
    expect(store.idsWithPrefix(A2, 10)).toEqual([A2]);
    expect(store.idsWithPrefix("0190aaaa", 1)).toEqual([A1]);
    expect(store.idsWithPrefix("0190aaac", 10)).toEqual([]);
    expect(store.idsWithPrefix("ffffffff", 10)).toEqual([]);
  });

  test("compares exactly: no LIKE wildcards, no case folding", () => {
    const store = storeWith([A1, A2, B]);
    expect(store.idsWithPrefix("0190aa%", 10)).toEqual([]);
    expect(store.idsWithPrefix("0190aa_a", 10)).toEqual([]);
    expect(store.idsWithPrefix("0190AAAA", 10)).toEqual([]);
    // Characters without a plain successor fall back to an open range, still exact.
    expect(store.idsWithPrefix("0190aaaa\u{10ffff}", 10)).toEqual([]);
    expect(store.idsWithPrefix("\ud800", 10)).toEqual([]);
  });
});

describe("findByIdOrPrefix", () => {
  test("an exact id, or a unique prefix of at least six characters", async () => {
    const store = new SqliteTaskStore(storeWith([A1, A2, B]));
    expect((await findByIdOrPrefix(store, A1)).id).toBe(A1);
    expect((await findByIdOrPrefix(store, "0190aaab")).id).toBe(B);
  });

  test("none is a TaskNotFoundError; a prefix under six characters is never looked up", async () => {
    const store = new SqliteTaskStore(storeWith([A1]));
    await expect(findByIdOrPrefix(store, "0190ab")).rejects.toThrow(TaskNotFoundError);
    await expect(findByIdOrPrefix(store, "0190a")).rejects.toThrow(TaskNotFoundError);
  });

  test("several is an AmbiguousIdError with their count, up to 1,000", async () => {
    const store = new SqliteTaskStore(storeWith([A1, A2, B]));
    const error = await findByIdOrPrefix(store, "0190aaa").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AmbiguousIdError);
    expect(error).toMatchObject({ httpStatus: 409, code: "ambiguous_id", details: { matches: 3 } });
    expect((error as Error).message).toBe("the id prefix 0190aaa matches 3 tasks; give more of the id");

    const many = new SqliteTaskStore(
      storeWith(
        Array.from({ length: 1_002 }, (_, i) => `0190cccc-0000-7000-8000-${String(i).padStart(12, "0")}`),
      ),
    );
    await expect(findByIdOrPrefix(many, "0190cccc")).rejects.toThrow(
      "the id prefix 0190cccc matches more than 1000 tasks; give more of the id",
    );
  });
});
