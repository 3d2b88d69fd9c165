import { describe, expect, test } from "bun:test";
import type { TaskStatus } from "../../../src/index.ts";
import type { TaskPatch, TaskStore } from "../../../src/store/index.ts";
import {
  ALL_STATUSES,
  allEvents,
  createEvent,
  createIn,
  event,
  newTask,
  pastMillisecond,
  type SuiteContext,
} from "./harness.ts";

/** The guards a transition may carry: each status alone, the groups the engine uses, none, all. */
const GUARDS: ReadonlyArray<readonly TaskStatus[]> = [
  ...ALL_STATUSES.map((status) => [status]),
  ["PENDING", "PAUSED"],
  ["PENDING", "RUNNING", "PAUSED"],
  ["FINISHED", "FAILED", "STOPPED"],
  ["RUNNING", "FAILED"],
  [],
  ALL_STATUSES,
];

/** Where a transition from `status` goes in the table: somewhere else, so a move is visible. */
const TARGET = (status: TaskStatus): TaskStatus => (status === "STOPPED" ? "PENDING" : "STOPPED");

async function transitionTable(store: TaskStore, status: TaskStatus): Promise<string[]> {
  const wrong: string[] = [];
  for (const guard of GUARDS) {
    const label = `${status} with guard [${guard.join(", ")}]`;
    const before = await createIn(store, status);
    const eventsBefore = await allEvents(store, before.id);
    await pastMillisecond(before.updatedAt);
    const to = TARGET(status);
    const moved = await store.transition(
      before.id,
      guard,
      { status: to, statusReason: "moved" },
      event(status, to, "stop", { reason: "table" }),
    );
    const after = await store.getTask(before.id);
    const events = await allEvents(store, before.id);
    if (guard.includes(status)) {
      if (moved?.status !== to || moved.statusReason !== "moved")
        wrong.push(`${label}: did not move (got ${moved?.status})`);
      if (moved && moved.updatedAt <= before.updatedAt) wrong.push(`${label}: updatedAt not advanced`);
      if (JSON.stringify(after) !== JSON.stringify(moved))
        wrong.push(`${label}: getTask differs from the returned record`);
      const last = events.at(-1);
      if (events.length !== eventsBefore.length + 1 || last?.toStatus !== to || last.reason !== "table") {
        wrong.push(`${label}: expected one new event to ${to}, got ${events.length - eventsBefore.length}`);
      }
    } else {
      if (moved !== undefined) wrong.push(`${label}: moved to ${moved.status}, expected undefined`);
      if (JSON.stringify(after) !== JSON.stringify(before)) wrong.push(`${label}: the row changed`);
      if (events.length !== eventsBefore.length)
        wrong.push(`${label}: ${events.length - eventsBefore.length} events written`);
    }
  }
  return wrong;
}

export function transitionTests({ open }: SuiteContext): void {
  describe("transition: the guard decides", () => {
    for (const status of ALL_STATUSES) {
      test(`from ${status}: moves exactly when ${status} is in the guard, else resolves undefined and writes nothing`, async () => {
        const { store } = await open();
        expect(await transitionTable(store, status)).toEqual([]);
      });
    }

    test("a transition of an unknown id resolves undefined and writes no event", async () => {
      const { store } = await open();
      const id = Bun.randomUUIDv7();
      expect(
        await store.transition(id, ALL_STATUSES, { status: "RUNNING" }, event("PENDING", "RUNNING", "start")),
      ).toBeUndefined();
      expect(await allEvents(store, id)).toEqual([]);
    });

    test("the event is written as given, at the row's update time", async () => {
      const { store } = await open();
      const task = await createIn(store, "PENDING");
      const given = event("PENDING", "RUNNING", "start", {
        reason: "because",
        actor: "alice",
        source: "10.0.0.1",
      });
      const moved = await store.transition(task.id, ["PENDING"], { status: "RUNNING" }, given);
      const last = (await allEvents(store, task.id)).at(-1);
      expect(last).toEqual({ ...given, id: last?.id ?? -1, taskId: task.id, at: moved?.updatedAt ?? -1 });
    });
  });

  describe("TaskPatch", () => {
    async function patched(patches: TaskPatch[], status: TaskStatus = "RUNNING") {
      const { store } = await open();
      const task = await createIn(store, status);
      let last = task;
      for (const patch of patches) {
        const next = await store.updateTask(task.id, patch);
        if (!next) throw new Error("updateTask found no task");
        last = next;
      }
      expect(await store.getTask(task.id)).toEqual(last);
      return last;
    }

    test("sets every column it names and leaves the others", async () => {
      const patch: TaskPatch = {
        statusReason: "why",
        result: { r: 1 },
        error: { message: "boom", stack: "at x" },
        progress: { done: 2, total: 5, message: "two" },
        checkpoint: { step: 2 },
        attempt: 3,
        retries: 2,
        runAt: 1_800_000_000_000,
        requestedAction: "pause",
        startTime: 1_700_000_000_001,
        endTime: 1_700_000_000_002,
        lastRunTime: 1_700_000_000_003,
        activeMs: 1234,
      };
      const task = await patched([patch]);
      expect(task).toMatchObject({ ...patch, status: "RUNNING", taskName: "conformance", params: { n: 1 } });
    });

    test("addActiveMs adds to activeMs, rounded, and a negative amount adds nothing", async () => {
      expect(
        (await patched([{ addActiveMs: 100 }, { addActiveMs: 50.4 }, { addActiveMs: 0.6 }])).activeMs,
      ).toBe(151);
      expect((await patched([{ activeMs: 10 }, { addActiveMs: -5 }])).activeMs).toBe(10);
    });

    test("completeProgress sets done to total when a total was not reached, and leaves other progress alone", async () => {
      const complete = async (progress: TaskPatch["progress"]) =>
        (await patched([{ progress }, { completeProgress: true }])).progress;
      expect(await complete({ done: 3, total: 10, message: "m" })).toEqual({
        done: 10,
        total: 10,
        message: "m",
      });
      expect(await complete({ done: 10, total: 10, message: null })).toEqual({
        done: 10,
        total: 10,
        message: null,
      });
      expect(await complete({ done: 12, total: 10, message: null })).toEqual({
        done: 12,
        total: 10,
        message: null,
      });
      expect(await complete({ done: 4, total: null, message: "no total" })).toEqual({
        done: 4,
        total: null,
        message: "no total",
      });
      expect(await complete(null)).toBeNull();
      expect(await complete({ done: 0.5, total: 1.5, message: null })).toEqual({
        done: 1.5,
        total: 1.5,
        message: null,
      });
    });

    test("completeProgress applies in a transition too", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      await store.updateTask(task.id, { progress: { done: 1, total: 4, message: null } });
      const done = await store.transition(
        task.id,
        ["RUNNING"],
        { status: "FINISHED", completeProgress: true, endTime: Date.now() },
        event("RUNNING", "FINISHED", "finish"),
      );
      expect(done?.progress).toEqual({ done: 4, total: 4, message: null });
    });

    test("null clears a column", async () => {
      const task = await patched([
        {
          statusReason: "r",
          result: { a: 1 },
          error: { e: 1 },
          progress: { done: 1, total: null, message: null },
          checkpoint: { c: 1 },
          runAt: 5,
          requestedAction: "stop",
          startTime: 6,
          endTime: 7,
          lastRunTime: 8,
        },
        {
          statusReason: null,
          result: null,
          error: null,
          progress: null,
          checkpoint: null,
          runAt: null,
          requestedAction: null,
          startTime: null,
          endTime: null,
          lastRunTime: null,
        },
      ]);
      expect(task).toMatchObject({
        statusReason: null,
        result: null,
        error: null,
        progress: null,
        checkpoint: null,
        runAt: null,
        requestedAction: null,
        startTime: null,
        endTime: null,
        lastRunTime: null,
      });
    });

    test("undefined leaves a column as it is", async () => {
      const task = await patched([
        { result: { keep: true }, statusReason: "kept" },
        { result: undefined, statusReason: undefined, retries: 1 },
      ]);
      expect(task).toMatchObject({ result: { keep: true }, statusReason: "kept", retries: 1 });
    });

    test("startTime records the first start: a number fills only an empty column", async () => {
      expect((await patched([{ startTime: 100 }, { startTime: 200 }])).startTime).toBe(100);
      expect((await patched([{ startTime: 100 }, { startTime: null }, { startTime: 300 }])).startTime).toBe(
        300,
      );
    });

    test("an empty patch only advances updatedAt", async () => {
      const { store } = await open();
      const task = await createIn(store, "PAUSED");
      await pastMillisecond(task.updatedAt);
      const next = await store.updateTask(task.id, {});
      expect(next).toEqual({ ...task, updatedAt: next?.updatedAt ?? -1 });
      expect(next?.updatedAt).toBeGreaterThan(task.updatedAt);
    });
  });

  describe("updateTask", () => {
    test("without an event: changes the columns and writes no event", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      const events = await allEvents(store, task.id);
      const next = await store.updateTask(task.id, { requestedAction: "pause" });
      expect(next?.requestedAction).toBe("pause");
      expect(next?.status).toBe("RUNNING");
      expect(await allEvents(store, task.id)).toEqual(events);
    });

    test("with an event: changes the columns and appends the event", async () => {
      const { store } = await open();
      const task = await createIn(store, "RUNNING");
      const given = event(null, null, "pause", { reason: "asked", actor: "bob" });
      const next = await store.updateTask(task.id, { requestedAction: "pause" }, given);
      const last = (await allEvents(store, task.id)).at(-1);
      expect(last).toEqual({ ...given, id: last?.id ?? -1, taskId: task.id, at: next?.updatedAt ?? -1 });
    });

    test("updateTask may change the status, in any status (it has no guard)", async () => {
      const { store } = await open();
      const task = await createIn(store, "FINISHED");
      expect((await store.updateTask(task.id, { status: "PENDING" }))?.status).toBe("PENDING");
    });

    test("of an unknown id resolves undefined and writes no event", async () => {
      const { store } = await open();
      const id = Bun.randomUUIDv7();
      expect(await store.updateTask(id, { retries: 1 }, event(null, null, "pause"))).toBeUndefined();
      expect(await allEvents(store, id)).toEqual([]);
      expect(await store.getTask(id)).toBeUndefined();
    });

    test("a rejected update writes neither the row nor the event", async () => {
      const { store } = await open();
      const task = await store.createTask(newTask(), createEvent());
      // The status is checked by the database: an unknown one is refused.
      const bad = { status: "NOT_A_STATUS" } as unknown as TaskPatch;
      // Awaited before expect(): `expect(promise).rejects` waits without handling a Worker's
      // messages, and a store with a writer thread answers through them.
      const refused = await store.updateTask(task.id, bad, event(null, null, "pause")).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(Error);
      expect(await store.getTask(task.id)).toEqual(task);
      expect(await allEvents(store, task.id)).toHaveLength(1);
    });
  });
}
