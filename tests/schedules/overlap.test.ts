import { describe, expect, test } from "bun:test";
import { decideOverlap } from "../../src/schedules/index.ts";
import { TASK_STATUSES, type TaskStatus } from "../../src/task/index.ts";

const ACTIVE: TaskStatus[] = ["PENDING", "RUNNING", "PAUSED"];
const FINAL: TaskStatus[] = ["FINISHED", "FAILED", "STOPPED"];

test("the statuses split into active and final, so every one is covered below", () => {
  expect([...ACTIVE, ...FINAL].sort()).toEqual([...TASK_STATUSES].sort());
});

describe('overlap "allow"', () => {
  test("fires whatever the previous task is doing", () => {
    for (const status of TASK_STATUSES) {
      expect(decideOverlap("allow", { id: "t1", status })).toEqual({ action: "fire" });
    }
    expect(decideOverlap("allow", null)).toEqual({ action: "fire" });
  });
});

describe('overlap "skip"', () => {
  test.each(ACTIVE)("does not fire while the previous task is %s, and says why", (status) => {
    expect(decideOverlap("skip", { id: "0193a1b2-prev", status })).toEqual({
      action: "skip",
      reason: `overlap "skip": the previous task 0193a1b2-prev is still ${status}`,
    });
  });

  test.each(FINAL)("fires once the previous task is %s", (status) => {
    expect(decideOverlap("skip", { id: "t1", status })).toEqual({ action: "fire" });
  });

  test("fires when there is no previous task", () => {
    expect(decideOverlap("skip", null)).toEqual({ action: "fire" });
  });
});

describe('overlap "queue"', () => {
  test.each(ACTIVE)("fires, waiting for the previous task while it is %s", (status) => {
    expect(decideOverlap("queue", { id: "t7", status })).toEqual({ action: "queue", after: "t7" });
  });

  test.each(FINAL)("fires without waiting once the previous task is %s", (status) => {
    expect(decideOverlap("queue", { id: "t7", status })).toEqual({ action: "fire" });
  });

  test("fires without waiting when there is no previous task", () => {
    expect(decideOverlap("queue", null)).toEqual({ action: "fire" });
  });
});
