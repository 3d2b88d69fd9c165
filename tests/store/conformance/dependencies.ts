import { describe, expect, test } from "bun:test";
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
  });
}
