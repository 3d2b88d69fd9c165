// kiln's SQLite store with its writes on a thread of their own (bench/thread-store/), which the
// http bench can run kiln on (`bench/http-server.ts --writer-thread`): its figures mean something
// only if it is the same store, so it passes the conformance suite every store passes, on a real
// file, with its writer on a real Bun Worker.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteThreadStore } from "../../bench/thread-store/sqlite-thread-store.ts";
import { decodeValue, encodeValue } from "../../bench/thread-store/thread-values.ts";
import { JsonText, UnreadableValue } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";
import { createEvent, newTask } from "../store/conformance/harness.ts";
import { makeSqliteStore } from "../store/conformance/sqlite-files.ts";
import { runStoreSuite } from "../store/conformance/suite.ts";

runStoreSuite("SqliteThreadStore", (keys) =>
  makeSqliteStore(keys, (options) => new SqliteThreadStore(options)),
);

test("values cross the thread as they were: classes, Maps and undefined made again, a client's tag-like object left alone", () => {
  const sent = {
    result: new JsonText('{"a":1}', { a: 1 }),
    error: new UnreadableValue("not JSON"),
    checkpoints: new Map<string, unknown>([["t1", new JsonText("[2]", [2])]]),
    params: { "~kiln": "json", text: "not a tag" },
    deep: { a: { b: { c: { "~kiln": "undefined" } } } },
    gone: undefined,
  };
  const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(sent)))) as typeof sent;
  expect(back.result).toBeInstanceOf(JsonText);
  expect((back.result as JsonText).text).toBe('{"a":1}');
  expect((back.result as JsonText).value).toEqual({ a: 1 });
  expect(back.error).toEqual(new UnreadableValue("not JSON"));
  expect(back.error).toBeInstanceOf(UnreadableValue);
  expect(back.checkpoints).toBeInstanceOf(Map);
  expect(back.checkpoints.get("t1")).toBeInstanceOf(JsonText);
  expect(back.params).toEqual({ "~kiln": "json", text: "not a tag" });
  expect(back.deep).toEqual({ a: { b: { c: { "~kiln": "undefined" } } } });
  expect("gone" in back).toBe(false);
  expect(decodeValue(JSON.parse(JSON.stringify(encodeValue(undefined))))).toBeUndefined();
});

test("a write made just before close is in the file when the store reopens", async () => {
  const dir = tempDir("kiln-thread-store-");
  try {
    const path = join(dir.path, "kiln.db");
    const store = new SqliteThreadStore({ path });
    await store.migrate();
    const task = newTask({ params: { n: 1 } });
    const created = store.createTask(task, createEvent());
    const closing = store.close();
    await created;
    await closing;
    const again = new SqliteThreadStore({ path });
    try {
      expect((await again.getTask(task.id))?.params).toEqual({ n: 1 });
    } finally {
      await again.close();
    }
  } finally {
    dir.remove();
  }
});
