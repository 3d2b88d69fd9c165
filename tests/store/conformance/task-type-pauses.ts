import { describe, expect, test } from "bun:test";
import type { SuiteContext } from "./harness.ts";

export function taskTypePauseTests({ open }: SuiteContext): void {
  describe("paused task names", () => {
    test("pauseTaskType records who and when; listTaskTypePauses reads them in name order", async () => {
      const { store } = await open();
      expect(await store.listTaskTypePauses()).toEqual([]);
      const zeta = { taskName: "zeta", pausedBy: "alice", pausedAt: 1_800_000_000_123, pauseRunning: true };
      const alpha = { taskName: "alpha", pausedBy: null, pausedAt: 1_800_000_000_000, pauseRunning: false };
      expect(await store.pauseTaskType(zeta)).toEqual(zeta);
      expect(await store.pauseTaskType(alpha)).toEqual(alpha);
      expect(await store.listTaskTypePauses()).toEqual([alpha, zeta]);
    });

    test("pausing a paused name again replaces who asked, when and whether runs pause", async () => {
      const { store } = await open();
      await store.pauseTaskType({ taskName: "import", pausedBy: "alice", pausedAt: 1, pauseRunning: false });
      const again = { taskName: "import", pausedBy: "bob", pausedAt: 2, pauseRunning: true };
      expect(await store.pauseTaskType(again)).toEqual(again);
      expect(await store.listTaskTypePauses()).toEqual([again]);
    });

    test("resumeTaskType deletes the pause, and answers false for a name that was not paused", async () => {
      const { store } = await open();
      await store.pauseTaskType({ taskName: "import", pausedBy: "alice", pausedAt: 1, pauseRunning: false });
      expect(await store.resumeTaskType("import")).toBe(true);
      expect(await store.resumeTaskType("import")).toBe(false);
      expect(await store.resumeTaskType("never-paused")).toBe(false);
      expect(await store.listTaskTypePauses()).toEqual([]);
    });
  });
}
