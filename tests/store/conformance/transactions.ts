import { describe, expect, test } from "bun:test";
import type { TaskRecord } from "../../../src/store/index.ts";
import { allEvents, createEvent, createIn, event, newTask, rejection, type SuiteContext } from "./harness.ts";

class Planned extends Error {}

export function transactionTests({ open }: SuiteContext): void {
  describe("transaction", () => {
    test("commits every write made through tx when fn resolves, and resolves with fn's value", async () => {
      const { store } = await open();
      const existing = await createIn(store, "PENDING");
      const task = newTask();
      const value = await store.transaction(async (tx) => {
        await tx.createTask(task, createEvent());
        await tx.transition(
          existing.id,
          ["PENDING"],
          { status: "RUNNING" },
          event("PENDING", "RUNNING", "start"),
        );
        await tx.updateTask(task.id, { retries: 2 }, event(null, null, "pause"));
        // Reads through tx see the transaction's own writes.
        expect((await tx.getTask(task.id))?.retries).toBe(2);
        return "done";
      });
      expect(value).toBe("done");
      expect((await store.getTask(task.id))?.retries).toBe(2);
      expect((await store.getTask(existing.id))?.status).toBe("RUNNING");
      expect(await allEvents(store, task.id)).toHaveLength(2);
    });

    test("findByIdempotencyKey through tx sees a task created earlier in the transaction, with its params", async () => {
      const { store } = await open();
      const task = newTask({ idempotencyKey: "in-tx", params: { card: "4111", n: [1, 2] } });
      const found = await store.transaction(async (tx) => {
        expect(await tx.findByIdempotencyKey("in-tx")).toBeUndefined();
        await tx.createTask(task, createEvent());
        // A savepoint inside it sees it too.
        expect((await tx.attempt((inner) => inner.findByIdempotencyKey("in-tx")))?.id).toBe(task.id);
        return tx.findByIdempotencyKey("in-tx");
      });
      expect(found).toMatchObject({
        id: task.id,
        idempotencyKey: "in-tx",
        params: { card: "4111", n: [1, 2] },
      });
      expect(await store.findByIdempotencyKey("in-tx")).toEqual(found);
    });

    test("rolls back every write when fn rejects, and passes the rejection on", async () => {
      const { store } = await open();
      const existing = await createIn(store, "RUNNING");
      const task = newTask();
      const planned = new Planned("undo");
      const error = await rejection(
        store.transaction(async (tx) => {
          await tx.createTask(task, createEvent());
          await tx.transition(
            existing.id,
            ["RUNNING"],
            { status: "FINISHED" },
            event("RUNNING", "FINISHED", "finish"),
          );
          await tx.writeTelemetry({
            progress: new Map([[existing.id, { done: 5, total: null, message: null }]]),
            checkpoints: new Map(),
            logs: [{ taskId: existing.id, at: 1, level: "info", message: "undone" }],
          });
          throw planned;
        }),
      );
      expect(error).toBe(planned);
      expect(await store.getTask(task.id)).toBeUndefined();
      expect(await allEvents(store, task.id)).toEqual([]);
      expect(await store.getTask(existing.id)).toEqual(existing);
      expect(await allEvents(store, existing.id)).toHaveLength(2);
      expect((await store.listLogs(existing.id, {})).items).toEqual([]);
    });

    test("a rejected write inside rolls the whole transaction back when fn lets it through", async () => {
      const { store } = await open();
      const taken = await store.createTask(newTask({ idempotencyKey: "taken" }), createEvent());
      const task = newTask();
      const error = await rejection(
        store.transaction(async (tx) => {
          await tx.createTask(task, createEvent());
          await tx.createTask(newTask({ idempotencyKey: "taken" }), createEvent());
        }),
      );
      expect(store.faultOf(error)).toBeUndefined();
      expect(await store.getTask(task.id)).toBeUndefined();
      expect(await store.getTask(taken.id)).toEqual(taken);
    });

    test("writes sent on tx without awaiting one another all land, in one commit, in the order sent", async () => {
      // What the engine does on a store that pipelines: the starts of one dispatch, begun together.
      const { store } = await open();
      const pending = await Promise.all(Array.from({ length: 5 }, () => createIn(store, "PENDING")));
      const stopped = await createIn(store, "STOPPED");
      const fresh = newTask();
      const moved = await store.transaction((tx) =>
        Promise.all([
          ...pending.map((task) =>
            tx.transition(task.id, ["PENDING"], { status: "RUNNING" }, event("PENDING", "RUNNING", "start")),
          ),
          // Guarded as ever: a task no longer PENDING is skipped, and gets no event.
          tx.transition(stopped.id, ["PENDING"], { status: "RUNNING" }, event("PENDING", "RUNNING", "start")),
          tx.createTask(fresh, createEvent()),
        ]),
      );
      expect(moved.slice(0, 5).map((task) => task?.status)).toEqual(Array(5).fill("RUNNING"));
      expect(moved[5]).toBeUndefined();
      for (const task of pending) {
        expect((await store.getTask(task.id))?.status).toBe("RUNNING");
        expect((await allEvents(store, task.id)).map((e) => e.action)).toEqual(["create", "start"]);
      }
      expect(await store.getTask(stopped.id)).toEqual(stopped);
      expect(await allEvents(store, stopped.id)).toHaveLength(2);
      expect((await store.getTask(fresh.id))?.id).toBe(fresh.id);
    });

    test("one refused write among writes sent together rolls the whole transaction back", async () => {
      const { store } = await open();
      const taken = await store.createTask(newTask({ idempotencyKey: "taken" }), createEvent());
      const pending = await createIn(store, "PENDING");
      const before = newTask();
      const after = newTask();
      const outcomes = await store
        .transaction((tx) =>
          Promise.allSettled([
            tx.createTask(before, createEvent()),
            tx.createTask(newTask({ idempotencyKey: "taken" }), createEvent()),
            tx.createTask(after, createEvent()),
            tx.transition(
              pending.id,
              ["PENDING"],
              { status: "RUNNING" },
              event("PENDING", "RUNNING", "start"),
            ),
          ]).then((settled) => {
            // Every write settled before fn ends; then the refusal is passed on.
            const refused = settled.find((outcome) => outcome.status === "rejected");
            if (refused) throw refused.reason;
            return settled;
          }),
        )
        .catch((error: unknown) => error);
      expect(outcomes).toBeInstanceOf(Error);
      expect(store.faultOf(outcomes)).toBeUndefined();
      expect(await store.getTask(before.id)).toBeUndefined();
      expect(await store.getTask(after.id)).toBeUndefined();
      expect(await store.getTask(pending.id)).toEqual(pending);
      expect(await store.getTask(taken.id)).toEqual(taken);
      // And the store works on.
      expect((await store.createTask(newTask(), createEvent())).status).toBe("PENDING");
    });

    test("the store works on after a rolled-back transaction", async () => {
      const { store } = await open();
      await rejection(store.transaction(async () => Promise.reject(new Planned("no"))));
      const task = await store.createTask(newTask(), createEvent());
      expect(await store.getTask(task.id)).toEqual(task);
      await store.transaction(async (tx) => tx.updateTask(task.id, { retries: 1 }));
      expect((await store.getTask(task.id))?.retries).toBe(1);
    });

    test("deleteTask and deleteEndedBefore inside a rolled-back transaction are undone", async () => {
      const { store } = await open();
      const a = await createIn(store, "FINISHED");
      const b = await store.transition(
        (await createIn(store, "RUNNING")).id,
        ["RUNNING"],
        { status: "FAILED", endTime: Date.now() },
        event("RUNNING", "FAILED", "fail"),
      );
      await Bun.sleep(2);
      await rejection(
        store.transaction(async (tx) => {
          expect(await tx.deleteTask(a.id)).toBe(true);
          expect((await tx.deleteEndedBefore(Date.now(), 10)).map((d) => d.id)).toEqual([b?.id ?? ""]);
          expect(await tx.getTask(a.id)).toBeUndefined();
          throw new Planned("undo");
        }),
      );
      expect(await store.getTask(a.id)).toEqual(a);
      expect(await store.getTask(b?.id ?? "")).toEqual(b as TaskRecord);
    });

    test("a call on the store itself while a transaction is open does not join it", async () => {
      const { store } = await open();
      const outside = newTask();
      let pending: Promise<TaskRecord> | undefined;
      await rejection(
        store.transaction(async (tx) => {
          await tx.createTask(newTask(), createEvent());
          // Not awaited in here: a store that queues its calls behind the transaction runs it after.
          pending = store.createTask(outside, createEvent());
          await Bun.sleep(20);
          throw new Planned("undo the transaction only");
        }),
      );
      expect((await pending)?.id).toBe(outside.id);
      expect(await store.getTask(outside.id)).toBeDefined();
      expect((await store.listTasks({})).items.map((task) => task.id)).toEqual([outside.id]);
    });
  });

  describe("attempt", () => {
    test("rolls back only its own writes when it rejects; the transaction goes on and commits", async () => {
      const { store } = await open();
      const before = newTask();
      const inside = newTask();
      const after = newTask();
      const planned = new Planned("attempt fails");
      await store.transaction(async (tx) => {
        await tx.createTask(before, createEvent());
        const error = await rejection(
          tx.attempt(async (inner) => {
            await inner.createTask(inside, createEvent());
            await inner.updateTask(before.id, { retries: 9 });
            throw planned;
          }),
        );
        expect(error).toBe(planned);
        expect(await tx.getTask(inside.id)).toBeUndefined();
        await tx.createTask(after, createEvent());
      });
      expect(await store.getTask(before.id)).toMatchObject({ retries: 0 });
      expect(await store.getTask(inside.id)).toBeUndefined();
      expect(await store.getTask(after.id)).toBeDefined();
    });

    test("a failed statement inside an attempt leaves the transaction usable", async () => {
      const { store } = await open();
      await store.createTask(newTask({ idempotencyKey: "dup" }), createEvent());
      const kept = newTask();
      await store.transaction(async (tx) => {
        const error = await rejection(
          tx.attempt((inner) => inner.createTask(newTask({ idempotencyKey: "dup" }), createEvent())),
        );
        expect(store.faultOf(error)).toBeUndefined();
        await tx.createTask(kept, createEvent());
      });
      expect(await store.getTask(kept.id)).toBeDefined();
      expect((await store.listTasks({})).items).toHaveLength(2);
    });

    test("a resolved attempt keeps its writes and passes its value on; attempts nest", async () => {
      const { store } = await open();
      const outer = newTask();
      const nestedFails = newTask();
      const value = await store.transaction(async (tx) =>
        tx.attempt(async (inner) => {
          await inner.createTask(outer, createEvent());
          await rejection(
            inner.attempt(async (deeper) => {
              await deeper.createTask(nestedFails, createEvent());
              throw new Planned("inner only");
            }),
          );
          return 42;
        }),
      );
      expect(value).toBe(42);
      expect(await store.getTask(outer.id)).toBeDefined();
      expect(await store.getTask(nestedFails.id)).toBeUndefined();
    });

    test("on the store itself, attempt is a transaction of its own", async () => {
      const { store } = await open();
      const task = newTask();
      await rejection(
        store.attempt(async (tx) => {
          await tx.createTask(task, createEvent());
          throw new Planned("undo");
        }),
      );
      expect(await store.getTask(task.id)).toBeUndefined();
      expect(await store.attempt(async (tx) => (await tx.createTask(task, createEvent())).id)).toBe(task.id);
      expect(await store.getTask(task.id)).toBeDefined();
    });
  });

  describe("concurrency", () => {
    test("200 creates in parallel all land, each with its event", async () => {
      const { store } = await open();
      const tasks = Array.from({ length: 200 }, (_, i) => newTask({ params: { i } }));
      const created = await Promise.all(tasks.map((task) => store.createTask(task, createEvent())));
      expect(created.map((task) => task.id)).toEqual(tasks.map((task) => task.id));
      expect((await store.countByStatus()).PENDING).toBe(200);
      const events = await Promise.all(tasks.slice(0, 20).map((task) => allEvents(store, task.id)));
      expect(events.every((list) => list.length === 1)).toBe(true);
    });

    test("50 parallel guarded transitions of one PENDING task: exactly one wins, one event", async () => {
      const { store } = await open();
      const task = await createIn(store, "PENDING");
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.transition(
            task.id,
            ["PENDING"],
            { status: "RUNNING", attempt: i + 1 },
            event("PENDING", "RUNNING", "start"),
          ),
        ),
      );
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.getTask(task.id)).toEqual(winners[0] as TaskRecord);
      expect((await allEvents(store, task.id)).map((e) => e.action)).toEqual(["create", "start"]);
    });

    test("parallel creates with one idempotency key: exactly one lands", async () => {
      const { store } = await open();
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          store.createTask(newTask({ idempotencyKey: "race" }), createEvent()),
        ),
      );
      expect(settled.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      expect((await store.listTasks({})).items).toHaveLength(1);
    });

    test("parallel transactions do not lose writes", async () => {
      const { store } = await open();
      const shared = await createIn(store, "RUNNING");
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction(async (tx) => {
            const own = newTask({ params: { i } });
            await tx.createTask(own, createEvent());
            await tx.updateTask(shared.id, { addActiveMs: 10 });
            await Bun.sleep(i % 3);
            await tx.updateTask(own.id, { retries: i });
            return own.id;
          }),
        ),
      );
      expect((await store.getTask(shared.id))?.activeMs).toBe(200);
      for (const [i, id] of results.entries()) expect((await store.getTask(id))?.retries).toBe(i);
      expect((await store.countByStatus()).PENDING).toBe(20);
    });

    test("a transaction and calls on the store interleave without losing either", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      const outside = Array.from({ length: 10 }, () => newTask());
      await Promise.all([
        store.transaction(async (tx) => {
          for (let i = 0; i < 10; i++) {
            await tx.updateTask(task.id, { addActiveMs: 1 });
            await Bun.sleep(1);
          }
        }),
        ...outside.map((t) => store.createTask(t, createEvent())),
        ...outside.map(() => store.updateTask(task.id, { addActiveMs: 100 })),
      ]);
      expect((await store.getTask(task.id))?.activeMs).toBe(1010);
      expect((await store.countByStatus()).PENDING).toBe(10);
    });
  });

  describe("faultOf", () => {
    test("answers undefined for a constraint error and for an error that is not the driver's", async () => {
      const { store } = await open();
      const task = newTask();
      await store.createTask(task, createEvent());
      const duplicate = await rejection(store.createTask(task, createEvent()));
      expect(store.faultOf(duplicate)).toBeUndefined();
      expect(store.faultOf(new Error("something else"))).toBeUndefined();
      expect(store.faultOf("not even an error")).toBeUndefined();
    });
  });
}
