import { describe, expect, test } from "bun:test";
import type { TaskRecord } from "../../../src/store/index.ts";
import type { TaskStatus } from "../../../src/task/index.ts";
import { createEvent, newTask, type SuiteContext } from "./harness.ts";

export function dependencyTests({ open }: SuiteContext): void {
  describe("dependencies", () => {
    test("hasAwaiting: false while no task is held back, true once one is, false again when it is gone", async () => {
      const { store } = await open();
      expect(await store.hasAwaiting()).toBe(false);
      const dependency = await store.createTask(newTask(), createEvent());
      expect(await store.hasAwaiting()).toBe(false);
      const held = await store.createTask(newTask({ awaiting: "dependencies" }), createEvent());
      await store.transaction((tx) => tx.addAwaited(held.id, "dependencies", [dependency.id]));
      expect(await store.hasAwaiting()).toBe(true);
      expect(await store.awaitingOn([dependency.id])).toEqual([held.id]);
      // Ended, it still counts (its row keeps what it waited on) until it is deleted.
      await store.updateTask(held.id, { status: "STOPPED", endTime: Date.now() });
      expect(await store.hasAwaiting()).toBe(true);
      expect(await store.awaitingOn([dependency.id])).toEqual([]);
      expect(await store.deleteTask(held.id)).toBe(true);
      expect(await store.hasAwaiting()).toBe(false);
    });

    test("awaitedIds: the ids in the order they were named, not sorted; a later waitFor replaces the earlier", async () => {
      const { store } = await open();
      const [a, b, c] = [Bun.randomUUIDv7(), Bun.randomUUIDv7(), Bun.randomUUIDv7()];
      const held = await store.createTask(newTask({ awaiting: "children" }), createEvent());
      expect(await store.awaitedIds(held.id, "children")).toEqual([]);
      await store.transaction((tx) => tx.addAwaited(held.id, "children", [c, a, b]));
      expect(await store.awaitedIds(held.id, "children")).toEqual([c, a, b]);
      expect(await store.awaitedIds(held.id, "dependencies")).toEqual([]);
      await store.transaction((tx) => tx.addAwaited(held.id, "children", [b, c]));
      expect(await store.awaitedIds(held.id, "children")).toEqual([b, c]);
      await store.transaction((tx) => tx.addAwaited(held.id, "dependencies", [b, a]));
      expect(await store.awaitedIds(held.id, "dependencies")).toEqual([b, a]);
    });

    test("taskTree: what awaitedIds of both kinds and childrenOf read, together", async () => {
      const { store } = await open();
      const leaf = await store.createTask(newTask(), createEvent());
      const none = { total: 0, counts: {}, items: [] };
      expect(await store.taskTree(leaf.id, 10)).toEqual({ dependsOn: [], waitingFor: [], children: none });
      const parent = await store.createTask(newTask(), createEvent());
      const children: TaskRecord[] = [];
      for (let i = 0; i < 3; i++) {
        children.push(await store.createTask(newTask({ parentId: parent.id }), createEvent()));
      }
      const [a, b, c] = children.map((child) => child.id) as [string, string, string];
      // Spawned children only: no wait recorded.
      expect(await store.taskTree(parent.id, 2)).toEqual({
        dependsOn: [],
        waitingFor: [],
        children: await store.childrenOf(parent.id, 2),
      });
      await store.transaction(async (tx) => {
        await tx.addAwaited(parent.id, "children", [c, a]);
        await tx.addAwaited(parent.id, "dependencies", [leaf.id]);
      });
      const tree = await store.taskTree(parent.id, 2);
      expect(tree).toEqual({
        dependsOn: [leaf.id],
        waitingFor: [c, a],
        children: await store.childrenOf(parent.id, 2),
      });
      expect(tree.children.items.map((item) => item.id)).toEqual([a, b]);
      // A wait without children of its own (ids of tasks it did not spawn).
      expect(await store.taskTree(c, 5)).toEqual({ dependsOn: [], waitingFor: [], children: none });
      await store.transaction((tx) => tx.addAwaited(c, "children", [b]));
      expect(await store.taskTree(c, 5)).toEqual({ dependsOn: [], waitingFor: [b], children: none });
    });

    test("taskWithTree: the row as getTask reads it beside its taskTree; undefined for an id no task has", async () => {
      const { store } = await open();
      const parent = await store.createTask(newTask(), createEvent());
      const child = await store.createTask(newTask({ parentId: parent.id }), createEvent());
      await store.transaction((tx) => tx.addAwaited(parent.id, "children", [child.id]));
      expect(await store.taskWithTree(parent.id, 10)).toEqual({
        task: (await store.getTask(parent.id)) as TaskRecord,
        ...(await store.taskTree(parent.id, 10)),
      });
      const lone = await store.taskWithTree(child.id, 10);
      expect(lone?.task).toEqual(await store.getTask(child.id));
      expect(lone?.children).toEqual({ total: 0, counts: {}, items: [] });
      expect(await store.taskWithTree(Bun.randomUUIDv7(), 10)).toBeUndefined();
      // An exact id only: a prefix is the engine's to resolve (findByIdOrPrefix).
      expect(await store.taskWithTree(parent.id.slice(0, 12), 10)).toBeUndefined();
    });

    test("childrenOf: none for a task that spawned nothing; else counts per status and the first by id", async () => {
      const { store } = await open();
      const parent = await store.createTask(newTask(), createEvent());
      expect(await store.childrenOf(parent.id, 100)).toEqual({ total: 0, counts: {}, items: [] });
      const children: TaskRecord[] = [];
      for (let i = 0; i < 5; i++) {
        children.push(await store.createTask(newTask({ parentId: parent.id }), createEvent()));
      }
      await store.updateTask(children[1]?.id as string, { status: "FINISHED", endTime: Date.now() });
      await store.updateTask(children[3]?.id as string, { status: "FAILED", endTime: Date.now() });
      const item = (i: number, status: TaskStatus = "PENDING") => ({
        id: children[i]?.id as string,
        taskName: "conformance",
        status,
      });
      expect(await store.childrenOf(parent.id, 3)).toEqual({
        total: 5,
        counts: { PENDING: 3, FINISHED: 1, FAILED: 1 },
        items: [item(0), item(1, "FINISHED"), item(2)],
      });
      expect(await store.childrenOf(children[0]?.id as string, 100)).toEqual({
        total: 0,
        counts: {},
        items: [],
      });
    });
  });
}
