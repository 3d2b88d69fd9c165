import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  checkDependencies,
  DEPENDENCY_FAILURE_POLICIES,
  type DependencyDecision,
  type DependencyState,
  decideDependencies,
  dependencyCycles,
  externalDependencyIds,
  MAX_DEPENDENCIES,
  parseDependencyFailurePolicy,
  parseDependsOn,
  type SubmittedTask,
  waitingReason,
} from "../../src/flow/index.ts";
import { TASK_STATUSES, type TaskStatus } from "../../src/task/index.ts";

describe("dependsOn at submit time", () => {
  test("none, null and [] are no dependencies; ids are kept in order", () => {
    expect(parseDependsOn(undefined)).toEqual({ ok: true, ids: [] });
    expect(parseDependsOn(null)).toEqual({ ok: true, ids: [] });
    expect(parseDependsOn([])).toEqual({ ok: true, ids: [] });
    expect(parseDependsOn(["b", "a"])).toEqual({ ok: true, ids: ["b", "a"] });
  });

  test("an id given twice is an error naming it; bad ids name their index; the count is capped", () => {
    expect(parseDependsOn(["a", "b", "a", "b", "c"])).toEqual({
      ok: false,
      errors: [{ field: "dependsOn", message: "names a, b more than once" }],
    });
    expect(parseDependsOn(["a", "", 7, "x".repeat(201)])).toEqual({
      ok: false,
      errors: [
        { field: "dependsOn[1]", message: 'must be a task id of 1 to 200 characters, got ""' },
        { field: "dependsOn[2]", message: "must be a task id of 1 to 200 characters, got 7" },
        {
          field: "dependsOn[3]",
          message: expect.stringContaining("must be a task id of 1 to 200 characters"),
        },
      ],
    });
    const many = Array.from({ length: MAX_DEPENDENCIES + 1 }, (_, i) => `t${i}`);
    expect(parseDependsOn(many)).toEqual({
      ok: false,
      errors: [{ field: "dependsOn", message: "must hold at most 1000 task ids, got 1001" }],
    });
    expect(parseDependsOn(many.slice(1)).ok).toBe(true);
    expect(parseDependsOn("a")).toEqual({
      ok: false,
      errors: [{ field: "dependsOn", message: 'must be an array of task ids, got "a"' }],
    });
  });

  test("onDependencyFailure is fail by default, or stop or run", () => {
    expect(parseDependencyFailurePolicy(undefined)).toEqual({ ok: true, policy: "fail" });
    for (const policy of DEPENDENCY_FAILURE_POLICIES) {
      expect(parseDependencyFailurePolicy(policy)).toEqual({ ok: true, policy });
    }
    expect(parseDependencyFailurePolicy("ignore")).toEqual({
      ok: false,
      errors: [{ field: "onDependencyFailure", message: 'must be one of fail, stop, run, got "ignore"' }],
    });
  });

  test("unknown ids are one error naming a few of them and their count", () => {
    const known = new Set(["old-1", "old-2"]);
    const single = [{ id: "new", dependsOn: ["old-1", "gone"] }];
    expect(checkDependencies(single, (id) => known.has(id))).toEqual([
      { field: "dependsOn", message: "names a task that does not exist: gone" },
    ]);
    const many = [{ id: "new", dependsOn: ["x1", "x2", "old-2", "x3", "x4", "x5"] }];
    expect(checkDependencies(many, (id) => known.has(id))).toEqual([
      { field: "dependsOn", message: "names 5 tasks that do not exist: x1, x2, x3 and 2 more" },
    ]);
    expect(checkDependencies([{ id: "new", dependsOn: ["old-1", "old-2"] }], (id) => known.has(id))).toEqual(
      [],
    );
  });

  test("tasks of one submission may name each other; only the others are looked up", () => {
    const batch = [
      { id: "n1", dependsOn: ["old"] },
      { id: "n2", dependsOn: ["n1", "old"] },
      { id: "n3", dependsOn: ["n1", "n2", "other"] },
    ];
    expect(externalDependencyIds(batch)).toEqual(["old", "other"]);
    const looked: string[] = [];
    const errors = checkDependencies(batch, (id) => {
      looked.push(id);
      return id === "old";
    });
    expect(new Set(looked)).toEqual(new Set(["old", "other"]));
    expect(errors).toEqual([
      { field: "tasks[2].dependsOn", message: "names a task that does not exist: other" },
    ]);
  });
});

describe("cycles", () => {
  const noneKnown = () => true;

  test("a task naming itself", () => {
    expect(dependencyCycles([{ id: "a", dependsOn: ["a"] }])).toEqual([["a", "a"]]);
    expect(checkDependencies([{ id: "a", dependsOn: ["a"] }], noneKnown)).toEqual([
      { field: "dependsOn", message: "task a depends on itself" },
    ]);
  });

  test("two and three tasks in a ring, with the path in the message", () => {
    expect(
      dependencyCycles([
        { id: "a", dependsOn: ["b"] },
        { id: "b", dependsOn: ["a"] },
      ]),
    ).toEqual([["a", "b", "a"]]);
    const ring = [
      { id: "a", dependsOn: ["old"] },
      { id: "b", dependsOn: ["c"] },
      { id: "c", dependsOn: ["d", "old"] },
      { id: "d", dependsOn: ["b"] },
    ];
    expect(checkDependencies(ring, noneKnown)).toEqual([
      {
        field: "tasks[1].dependsOn",
        message: "is part of a cycle: b → c → d → b (each would wait for the other forever)",
      },
    ]);
  });

  test("no cycle: a chain, a diamond, shared dependencies, names of existing tasks", () => {
    const diamond = [
      { id: "top", dependsOn: ["left", "right"] },
      { id: "left", dependsOn: ["bottom"] },
      { id: "right", dependsOn: ["bottom", "old"] },
      { id: "bottom", dependsOn: [] },
    ];
    expect(dependencyCycles(diamond)).toEqual([]);
    expect(dependencyCycles([{ id: "a", dependsOn: ["old", "older"] }])).toEqual([]);
  });

  test("a chain of 1,000 tasks is checked without deep recursion, and closing it is found", () => {
    const chain: SubmittedTask[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: `t${i}`,
      dependsOn: i === 0 ? [] : [`t${i - 1}`],
    }));
    expect(dependencyCycles(chain)).toEqual([]);
    const closed = chain.map((task, i) => (i === 0 ? { ...task, dependsOn: ["t999"] } : task));
    const [cycle] = dependencyCycles(closed);
    expect(cycle).toHaveLength(1_001);
    expect(cycle?.[0]).toBe(cycle?.at(-1));
  });

  test("several separate cycles are each reported, a few at most", () => {
    const rings = Array.from({ length: 8 }, (_, i) => [
      { id: `a${i}`, dependsOn: [`b${i}`] },
      { id: `b${i}`, dependsOn: [`a${i}`] },
    ]).flat();
    expect(dependencyCycles(rings)).toHaveLength(5);
  });

  test("property: a cycle is reported exactly when the tasks cannot all be ordered", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((n) =>
          fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n + 2 }), { maxLength: 4 }), {
            minLength: n,
            maxLength: n,
          }),
        ),
        (edges) => {
          const batch = edges.map((targets, i) => ({ id: `t${i}`, dependsOn: targets.map((t) => `t${t}`) }));
          // Kahn's algorithm over the submission's own tasks: orderable ⇔ no cycle.
          const own = new Set(batch.map((task) => task.id));
          const remaining = new Map(
            batch.map((task) => [task.id, task.dependsOn.filter((id) => own.has(id))]),
          );
          let progressed = true;
          while (progressed) {
            progressed = false;
            for (const [id, deps] of remaining) {
              if (deps.every((dep) => !remaining.has(dep))) {
                remaining.delete(id);
                progressed = true;
              }
            }
          }
          const cycles = dependencyCycles(batch);
          expect(cycles.length > 0).toBe(remaining.size > 0);
          for (const cycle of cycles) {
            expect(cycle[0]).toBe(cycle.at(-1));
            for (let i = 0; i + 1 < cycle.length; i++) {
              expect(batch.find((task) => task.id === cycle[i])?.dependsOn).toContain(cycle[i + 1] as string);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("deciding a waiting task", () => {
  const dep = (id: string, status: TaskStatus | null): DependencyState => ({ id, status });

  test("every status of one dependency under every policy", () => {
    const expected: Record<string, Record<string, DependencyDecision["action"]>> = {
      PENDING: { fail: "wait", stop: "wait", run: "wait" },
      RUNNING: { fail: "wait", stop: "wait", run: "wait" },
      PAUSED: { fail: "wait", stop: "wait", run: "wait" },
      FINISHED: { fail: "run", stop: "run", run: "run" },
      FAILED: { fail: "fail", stop: "stop", run: "run" },
      STOPPED: { fail: "fail", stop: "stop", run: "run" },
      deleted: { fail: "fail", stop: "stop", run: "run" },
    };
    for (const status of [...TASK_STATUSES, null]) {
      for (const policy of DEPENDENCY_FAILURE_POLICIES) {
        const decision = decideDependencies([dep("d1", status)], policy);
        expect({ status, policy, action: decision.action }).toEqual({
          status,
          policy,
          action: expected[status ?? "deleted"]?.[policy] as DependencyDecision["action"],
        });
      }
    }
  });

  test("the reasons: waiting for, failed, stopped, runs anyway, deleted", () => {
    expect(decideDependencies([dep("d1", "RUNNING")])).toEqual({
      action: "wait",
      waitingFor: ["d1"],
      reason: "waiting for dependency d1",
    });
    expect(decideDependencies([dep("d1", "FAILED")])).toEqual({
      action: "fail",
      failed: [dep("d1", "FAILED")],
      reason: 'dependency d1 FAILED; failed (onDependencyFailure "fail")',
    });
    expect(decideDependencies([dep("d1", null)], "stop")).toMatchObject({
      action: "stop",
      reason: 'dependency d1 no longer exists; stopped (onDependencyFailure "stop")',
    });
    expect(decideDependencies([dep("d1", "FINISHED"), dep("d2", "STOPPED")], "run")).toEqual({
      action: "run",
      reason: 'dependency d2 STOPPED; runs anyway (onDependencyFailure "run")',
    });
    expect(decideDependencies([dep("d1", "FINISHED"), dep("d2", "FINISHED")])).toEqual({
      action: "run",
      reason: null,
    });
    expect(decideDependencies([])).toEqual({ action: "run", reason: null });
  });

  test("fail and stop decide at the first dependency that did not finish, without waiting for the rest", () => {
    const deps = [
      dep("a", "RUNNING"),
      dep("b", "FAILED"),
      dep("c", "PENDING"),
      dep("d", "STOPPED"),
      dep("e", "FAILED"),
      dep("f", "FAILED"),
    ];
    expect(decideDependencies(deps, "fail")).toMatchObject({
      action: "fail",
      reason:
        '4 dependencies did not finish: b FAILED, d STOPPED, e FAILED and 1 more; failed (onDependencyFailure "fail")',
    });
    // With "run", the task waits until the others have ended too.
    expect(decideDependencies(deps, "run")).toMatchObject({ action: "wait", waitingFor: ["a", "c"] });
  });

  test("the waiting reason names at most three ids and counts the rest", () => {
    const deps = Array.from({ length: 8 }, (_, i) => dep(`d${i}`, i < 2 ? "FINISHED" : "PENDING"));
    expect(decideDependencies(deps)).toEqual({
      action: "wait",
      waitingFor: ["d2", "d3", "d4", "d5", "d6", "d7"],
      reason: "waiting for 6 of 8 dependencies: d2, d3, d4 and 3 more",
    });
    expect(waitingReason(["a", "b"], 2)).toBe("waiting for 2 of 2 dependencies: a, b");
  });
});
