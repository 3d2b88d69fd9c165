import { describe, expect, test } from "bun:test";
import { type ChildRecord, checkWaitFor, collectFanIn, MAX_WAIT_FOR_IDS } from "../../src/flow/index.ts";
import type { ChildOutcome, TaskStatus } from "../../src/task/index.ts";

const PARENT = "parent";

function child(id: string, status: TaskStatus, fields: Partial<ChildRecord> = {}): ChildRecord {
  return { id, parentId: PARENT, status, statusReason: null, result: null, error: null, ...fields };
}

function finder(records: ChildRecord[]) {
  const byId = new Map(records.map((record) => [record.id, record]));
  return (id: string) => byId.get(id) ?? null;
}

describe("which ids waitFor may wait for", () => {
  test("its own children, in the order given, repeats kept; [] is fine", () => {
    const find = finder([child("c1", "RUNNING"), child("c2", "FINISHED")]);
    expect(checkWaitFor(["c2", "c1", "c2"], PARENT, find)).toEqual({ ok: true, ids: ["c2", "c1", "c2"] });
    expect(checkWaitFor([], PARENT, find)).toEqual({ ok: true, ids: [] });
  });

  test("another task's child, or a task without a parent, is refused: waits stay a tree", () => {
    const find = finder([child("mine", "RUNNING"), child("theirs", "RUNNING", { parentId: "other" })]);
    expect(checkWaitFor(["mine", "theirs"], PARENT, find)).toEqual({
      ok: false,
      message: "waitFor: theirs is not a child of this task (waitFor waits for tasks it spawned)",
    });
    // A task cannot wait for itself either: it is not its own child.
    expect(checkWaitFor([PARENT], PARENT, finder([{ ...child(PARENT, "RUNNING"), parentId: null }])).ok).toBe(
      false,
    );
  });

  test("an id that names no task is an error, unless it was in the recorded wait: then its child was deleted", () => {
    const find = finder([child("c1", "FINISHED")]);
    expect(checkWaitFor(["c1", "typo"], PARENT, find)).toEqual({
      ok: false,
      message: "waitFor: no task has the id typo",
    });
    expect(checkWaitFor(["c1", "gone"], PARENT, find, new Set(["c1", "gone"]))).toEqual({
      ok: true,
      ids: ["c1", "gone"],
    });
  });

  test("not an array of strings, or too many ids", () => {
    const find = finder([]);
    expect(checkWaitFor("c1", PARENT, find)).toEqual({
      ok: false,
      message: 'waitFor takes an array of task ids, got "c1"',
    });
    expect(checkWaitFor(["c1", 2], PARENT, find).ok).toBe(false);
    const many = Array.from({ length: MAX_WAIT_FOR_IDS + 1 }, (_, i) => `c${i}`);
    expect(checkWaitFor(many, PARENT, find)).toEqual({
      ok: false,
      message: "waitFor takes at most 10000 ids, got 10001",
    });
  });
});

describe("all ended?", () => {
  test("any child PENDING, RUNNING or PAUSED: not yet, with a reason naming a few", () => {
    for (const status of ["PENDING", "RUNNING", "PAUSED"] as const) {
      const find = finder([child("c1", "FINISHED"), child("c2", status)]);
      expect(collectFanIn(["c1", "c2"], find)).toEqual({
        ended: false,
        waitingFor: ["c2"],
        reason: "waiting for 1 of 2 children: c2",
      });
    }
    const hundred = Array.from({ length: 100 }, (_, i) => child(`c${i}`, i < 90 ? "FINISHED" : "RUNNING"));
    const state = collectFanIn(
      hundred.map((record) => record.id),
      finder(hundred),
    );
    expect(state).toMatchObject({
      ended: false,
      reason: "waiting for 10 of 100 children: c90, c91, c92 and 7 more",
    });
    expect(collectFanIn(["c1"], finder([child("c1", "RUNNING")]))).toMatchObject({
      reason: "waiting for child c1",
    });
  });

  test("all ended: each child's outcome in the order asked, a deleted one as DELETED", () => {
    const error = {
      name: "Error",
      message: "disk full",
      stack: "Error: disk full\n    at run",
      retryable: true,
    };
    const find = finder([
      child("ok", "FINISHED", { result: { rows: 3 } }),
      child("bad", "FAILED", { error }),
      child("halted", "STOPPED", { statusReason: "stop requested by admin" }),
    ]);
    const state = collectFanIn(["halted", "ok", "gone", "bad", "ok"], find);
    const outcomes: ChildOutcome[] = [
      { id: "halted", status: "STOPPED", reason: "stop requested by admin" },
      { id: "ok", status: "FINISHED", result: { rows: 3 } },
      { id: "gone", status: "DELETED" },
      { id: "bad", status: "FAILED", error },
      { id: "ok", status: "FINISHED", result: { rows: 3 } },
    ];
    expect(state).toEqual({ ended: true, outcomes });
    expect(collectFanIn([], find)).toEqual({ ended: true, outcomes: [] });
  });

  test("a stored error that is not a TaskError still reaches the parent as one", () => {
    const find = finder([
      child("text", "FAILED", { error: "boom" }),
      child("none", "FAILED", { error: null }),
      child("unrecoverable", "FAILED", {
        error: { name: "UnrecoverableError", message: "no", retryable: false },
      }),
    ]);
    const state = collectFanIn(["text", "none", "unrecoverable"], find);
    expect(state.ended && state.outcomes).toEqual([
      { id: "text", status: "FAILED", error: { name: "Error", message: "boom", retryable: true } },
      { id: "none", status: "FAILED", error: { name: "Error", message: "failed", retryable: true } },
      {
        id: "unrecoverable",
        status: "FAILED",
        error: { name: "UnrecoverableError", message: "no", retryable: false },
      },
    ]);
  });

  test("each child is looked up once, however often its id is given", () => {
    const looked: string[] = [];
    const find = finder([child("c1", "FINISHED")]);
    collectFanIn(["c1", "c1", "c1"], (id) => {
      looked.push(id);
      return find(id);
    });
    expect(looked).toEqual(["c1"]);
  });
});
