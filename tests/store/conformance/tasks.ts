import { describe, expect, test } from "bun:test";
import { JsonText, type NewTaskEvent, UnreadableValue } from "../../../src/store/index.ts";
import { MAX_JSON_DEPTH } from "../../../src/task/json-value.ts";
import { allEvents, createEvent, newTask, rejection, type SuiteContext } from "./harness.ts";

export function taskTests({ open }: SuiteContext): void {
  describe("createTask and getTask", () => {
    test("createTask returns the whole record with its defaults, and getTask reads the same", async () => {
      const { store } = await open();
      const before = Date.now();
      const task = newTask({ params: { a: 1 }, priority: 3, runAt: 1_700_000_000_000, tags: ["x", "y"] });
      const created = await store.createTask(task, createEvent());
      expect(created).toEqual({
        id: task.id,
        taskName: "conformance",
        status: "PENDING",
        statusReason: null,
        params: { a: 1 },
        result: null,
        error: null,
        progress: null,
        checkpoint: null,
        attempt: 1,
        retries: 0,
        priority: 3,
        runAt: 1_700_000_000_000,
        requestedAction: null,
        idempotencyKey: null,
        tags: ["x", "y"],
        startTime: null,
        endTime: null,
        lastRunTime: null,
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
        traceparent: null,
        requestId: null,
        parentId: null,
        activeMs: 0,
        scheduleId: null,
        scheduleFireTime: null,
        node: null,
        leaseEpoch: 0,
        rateKey: null,
        concurrencyKey: null,
        dependencyPolicy: null,
        awaiting: null,
      });
      expect(created.createdAt).toBeGreaterThanOrEqual(before);
      expect(created.createdAt).toBeLessThanOrEqual(Date.now());
      expect(await store.getTask(task.id)).toEqual(created);
    });

    test("a task created PAUSED, with request context and a parent, keeps them", async () => {
      const { store } = await open();
      const parent = await store.createTask(newTask(), createEvent());
      const task = newTask({
        status: "PAUSED",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        requestId: "req-42",
        parentId: parent.id,
        idempotencyKey: "key-1",
      });
      const created = await store.createTask(task, createEvent("PAUSED"));
      expect(created).toMatchObject({
        status: "PAUSED",
        traceparent: task.traceparent,
        requestId: "req-42",
        parentId: parent.id,
        idempotencyKey: "key-1",
      });
      expect(await store.getTask(task.id)).toEqual(created);
    });

    test('createTask writes its "create" event as given', async () => {
      const { store } = await open();
      const task = newTask();
      const created = await store.createTask(task, createEvent());
      const events = await allEvents(store, task.id);
      expect(events).toEqual([
        {
          id: events[0]?.id ?? -1,
          taskId: task.id,
          at: created.createdAt,
          fromStatus: null,
          toStatus: "PENDING",
          action: "create",
          reason: null,
          actor: "tester",
          source: "127.0.0.1",
        },
      ]);
      expect(typeof events[0]?.id).toBe("number");
    });

    test("numbers read back as numbers: times, counters, ids of events and log lines", async () => {
      const { store } = await open();
      const task = newTask({ runAt: 8_640_000_000_000_000, priority: -3 });
      await store.createTask(task, createEvent());
      const times = {
        startTime: 1_700_000_000_000,
        endTime: 1_700_000_000_001,
        lastRunTime: 1_700_000_000_002,
      };
      await store.updateTask(task.id, { ...times, attempt: 2, retries: 1, activeMs: 2 ** 40 });
      await store.writeTelemetry({
        progress: new Map([[task.id, { done: 1.5, total: 3, message: null }]]),
        checkpoints: new Map(),
        logs: [{ taskId: task.id, at: 1_700_000_000_003, level: "info", message: "m" }],
      });
      const read = await store.getTask(task.id);
      expect(read).toMatchObject({
        ...times,
        runAt: 8_640_000_000_000_000,
        priority: -3,
        attempt: 2,
        retries: 1,
        activeMs: 2 ** 40,
      });
      for (const field of [
        "attempt",
        "retries",
        "priority",
        "runAt",
        "startTime",
        "endTime",
        "lastRunTime",
        "createdAt",
        "updatedAt",
        "activeMs",
      ] as const) {
        expect({ field, type: typeof read?.[field] }).toEqual({ field, type: "number" });
      }
      expect(read?.progress).toEqual({ done: 1.5, total: 3, message: null });
      const [created] = (await store.listEvents(task.id, {})).items;
      expect([typeof created?.id, typeof created?.at]).toEqual(["number", "number"]);
      const [log] = (await store.listLogs(task.id, {})).items;
      expect(log).toEqual({
        id: log?.id ?? -1,
        taskId: task.id,
        at: 1_700_000_000_003,
        level: "info",
        message: "m",
      });
      expect(typeof log?.id).toBe("number");
    });

    test("getTask of an unknown id resolves undefined", async () => {
      const { store } = await open();
      expect(await store.getTask(Bun.randomUUIDv7())).toBeUndefined();
    });

    test("a duplicate id is rejected and writes nothing", async () => {
      const { store } = await open();
      const task = newTask({ params: { first: true } });
      await store.createTask(task, createEvent());
      const error = await rejection(store.createTask({ ...task, params: { first: false } }, createEvent()));
      expect(error).toBeInstanceOf(Error);
      expect(store.faultOf(error)).toBeUndefined();
      expect((await store.getTask(task.id))?.params).toEqual({ first: true });
      expect(await allEvents(store, task.id)).toHaveLength(1);
    });

    test("a duplicate idempotency key is rejected and writes nothing; tasks without one never clash", async () => {
      const { store } = await open();
      await store.createTask(newTask({ idempotencyKey: "once" }), createEvent());
      const second = newTask({ idempotencyKey: "once" });
      const error = await rejection(store.createTask(second, createEvent()));
      expect(error).toBeInstanceOf(Error);
      expect(store.faultOf(error)).toBeUndefined();
      expect(await store.getTask(second.id)).toBeUndefined();
      expect(await allEvents(store, second.id)).toEqual([]);
      for (let i = 0; i < 3; i++) await store.createTask(newTask({ idempotencyKey: null }), createEvent());
      expect((await store.listTasks({})).items).toHaveLength(4);
    });

    test("findByIdempotencyKey finds the task with that key, and nothing for another", async () => {
      const { store } = await open();
      const task = newTask({ idempotencyKey: "order-7" });
      const created = await store.createTask(task, createEvent());
      await store.createTask(newTask({ idempotencyKey: "order-8" }), createEvent());
      expect(await store.findByIdempotencyKey("order-7")).toEqual(created);
      expect(await store.findByIdempotencyKey("order-9")).toBeUndefined();
      expect(await store.findByIdempotencyKey("ORDER-7")).toBeUndefined();
    });

    test("migrate() on a migrated store changes nothing", async () => {
      const { store } = await open();
      const created = await store.createTask(newTask(), createEvent());
      await store.migrate();
      expect(await store.getTask(created.id)).toEqual(created);
    });

    test("dialect and location say what the store is", async () => {
      const { store } = await open();
      expect(["sqlite", "postgres"]).toContain(store.dialect);
      expect(store.location.length).toBeGreaterThan(0);
    });
  });

  describe("values", () => {
    /** Writes `value` as params, result and checkpoint, and reads each back. */
    async function roundTrip(value: unknown, ctx = open) {
      const { store } = await ctx();
      const task = newTask({ params: value });
      await store.createTask(task, createEvent());
      await store.updateTask(task.id, { result: value, checkpoint: value, error: value });
      const read = await store.getTask(task.id);
      return { params: read?.params, result: read?.result, checkpoint: read?.checkpoint, error: read?.error };
    }

    const cases: Array<[string, unknown]> = [
      ["unicode text", { text: "héllo wörld – 日本語 – 🎉👩‍👩‍👧 – עברית", "ключ 🔑": "значение" }],
      ["quotes, backslashes and control characters", { s: "a\"b\\c\n\t\r\u0001 </script> ' --" }],
      ["a NUL character", { nul: "a\u0000b", "key\u0000": 1 }],
      ["a lone surrogate", { lone: "x\ud800y", low: "\udc00" }],
      ["numbers", { int: 9_007_199_254_740_991, neg: -42, frac: 0.1, small: 1e-7, big: 1e300, zero: 0 }],
      ["plain values", [true, false, null, "", 0, [], {}]],
      ["a bare string", "just a string"],
      ["a bare number", 12.5],
      ["nested objects", nested(100)],
      [
        "a big object",
        { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row ${i}`, ok: i % 2 === 0 })) },
      ],
      ["a long string", { blob: "x".repeat(1_000_000) }],
    ];
    for (const [name, value] of cases) {
      test(`${name} read back as written`, async () => {
        expect(await roundTrip(value)).toEqual({
          params: value,
          result: value,
          checkpoint: value,
          error: value,
        });
      });
    }

    test("the keys of an object keep their order", async () => {
      const value = { zebra: 1, apple: 2, mango: { y: 1, b: 2, a: 3 }, "10": 4, longer_key: 5, k: 6 };
      const read = await roundTrip(value);
      expect(JSON.stringify(read.params)).toBe(JSON.stringify(value));
      expect(JSON.stringify(read.result)).toBe(JSON.stringify(value));
    });

    test("text columns keep their text; NUL may read as U+FFFD, a lone surrogate does", async () => {
      const { store } = await open();
      const odd = "a\u0000b\ud800c ✓";
      // SQLite keeps NUL; PostgreSQL's text cannot hold it. A lone surrogate has no UTF-8 form in either.
      const readable = (text: string | null | undefined) =>
        text === "a\u0000b\ufffdc ✓" || text === "a\ufffdb\ufffdc ✓"
          ? "readable"
          : `read back as ${JSON.stringify(text)}`;
      const outcome = async (
        write: (id: string) => Promise<unknown>,
        read: (id: string) => Promise<string | null | undefined>,
      ) => {
        const task = newTask({ taskName: "naïve 名前 🎉" });
        await store.createTask(task, createEvent());
        try {
          await write(task.id);
        } catch (error) {
          return `the write failed: ${error}`;
        }
        return readable(await read(task.id));
      };
      const stop: NewTaskEvent = { ...createEvent(), action: "stop" };
      expect({
        statusReason: await outcome(
          (id) => store.transition(id, ["PENDING"], { status: "STOPPED", statusReason: odd }, stop),
          async (id) => (await store.getTask(id))?.statusReason,
        ),
        eventReason: await outcome(
          (id) => store.updateTask(id, {}, { ...stop, reason: odd }),
          async (id) => (await store.listEvents(id, {})).items.at(-1)?.reason,
        ),
        logLine: await outcome(
          (id) =>
            store.writeTelemetry({
              progress: new Map(),
              checkpoints: new Map(),
              logs: [{ taskId: id, at: 1, level: "info", message: odd }],
            }),
          async (id) => (await store.listLogs(id, {})).items[0]?.message,
        ),
      }).toEqual({ statusReason: "readable", eventReason: "readable", logLine: "readable" });
      expect((await store.listTasks({})).items.map((task) => task.taskName)).toEqual(
        Array(3).fill("naïve 名前 🎉"),
      );
    });

    test("a value altered outside kiln to nest too deep reads as UnreadableValue; the task stays readable", async () => {
      const { store, rawWrite } = await open();
      const task = newTask();
      await store.createTask(task, createEvent());
      const deep = `${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`;
      await rawWrite(task.id, "params", deep);
      await rawWrite(task.id, "result", `{"fine": ${deep}}`);
      const read = await store.getTask(task.id);
      expect(read?.params).toBeInstanceOf(UnreadableValue);
      expect(read?.result).toBeInstanceOf(UnreadableValue);
      expect((read?.params as UnreadableValue | undefined)?.unreadable).toContain("params");
      expect(read?.status).toBe("PENDING");
      expect((await store.listTasks({})).items).toHaveLength(1);
      await store.verifyReadable();
    });

    test("null params read as null", async () => {
      expect((await roundTrip(null)).params).toBeNull();
    });

    test("a JsonText is stored as its text, not as its value", async () => {
      const { store } = await open();
      const text = (json: string, value: unknown) => new JsonText(json, value);
      const task = newTask({ params: text('{ "from" : "text" , "n" : [1, 2] }', { from: "value" }) });
      await store.createTask(task, createEvent());
      await store.updateTask(task.id, {
        result: text('{"result":"text"}', { result: "value" }),
        checkpoint: text('["checkpoint", {"deep": {"er": true}}]', null),
      });
      const read = await store.getTask(task.id);
      expect(read?.params).toEqual({ from: "text", n: [1, 2] });
      expect(read?.result).toEqual({ result: "text" });
      expect(read?.checkpoint).toEqual(["checkpoint", { deep: { er: true } }]);
    });

    test("a JsonText with unicode and a big body reads back whole", async () => {
      const { store } = await open();
      const value = { emoji: "🎉", big: Array.from({ length: 5_000 }, (_, i) => `élément ${i}`) };
      const task = newTask({ params: new JsonText(JSON.stringify(value), value) });
      await store.createTask(task, createEvent());
      expect((await store.getTask(task.id))?.params).toEqual(value);
    });

    test("tags read back as the array written, and null as null", async () => {
      const { store } = await open();
      const tagged = await store.createTask(newTask({ tags: ["é", "a b", "🏷️"] }), createEvent());
      const bare = await store.createTask(newTask({ tags: null }), createEvent());
      expect((await store.getTask(tagged.id))?.tags).toEqual(["é", "a b", "🏷️"]);
      expect((await store.getTask(bare.id))?.tags).toBeNull();
    });
  });
}

function nested(depth: number): unknown {
  let value: unknown = { leaf: "bottom" };
  for (let i = 0; i < depth; i++) value = i % 2 ? { level: i, child: value } : [i, value];
  return value;
}
