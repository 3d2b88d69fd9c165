import { describe, expect, test } from "bun:test";
import { type ControlAction, decideControl } from "../../src/engine/lifecycle/lifecycle.ts";
import type { RequestedAction, TaskStatus } from "../../src/task/index.ts";

type Requested = RequestedAction | null;

/** The expected decision; `mentions` is what a refusal's message must name. */
type Expected =
  | { kind: "now"; to: TaskStatus }
  | { kind: "request" }
  | { kind: "pending" }
  | { kind: "withdraw-pause" }
  | { kind: "refuse"; mentions: string };

const ACTIONS: readonly ControlAction[] = ["pause", "resume", "stop", "restart"];
const STATUSES: readonly TaskStatus[] = ["PENDING", "RUNNING", "PAUSED", "FINISHED", "FAILED", "STOPPED"];
const REQUESTED: readonly Requested[] = [null, "pause", "stop", "restart"];

/**
 * Every status but RUNNING: the requested action plays no part (it is only set while a task
 * runs), so each row must hold whatever it is.
 */
const NOT_RUNNING: Record<ControlAction, Record<Exclude<TaskStatus, "RUNNING">, Expected>> = {
  pause: {
    PENDING: { kind: "now", to: "PAUSED" },
    PAUSED: { kind: "refuse", mentions: "PAUSED" },
    FINISHED: { kind: "refuse", mentions: "FINISHED" },
    FAILED: { kind: "refuse", mentions: "FAILED" },
    STOPPED: { kind: "refuse", mentions: "STOPPED" },
  },
  resume: {
    PENDING: { kind: "refuse", mentions: "PENDING" },
    PAUSED: { kind: "now", to: "PENDING" },
    FINISHED: { kind: "refuse", mentions: "FINISHED" },
    FAILED: { kind: "refuse", mentions: "FAILED" },
    STOPPED: { kind: "refuse", mentions: "STOPPED" },
  },
  stop: {
    PENDING: { kind: "now", to: "STOPPED" },
    PAUSED: { kind: "now", to: "STOPPED" },
    FINISHED: { kind: "refuse", mentions: "FINISHED" },
    FAILED: { kind: "refuse", mentions: "FAILED" },
    STOPPED: { kind: "refuse", mentions: "STOPPED" },
  },
  restart: {
    PENDING: { kind: "now", to: "PENDING" },
    PAUSED: { kind: "now", to: "PENDING" },
    FINISHED: { kind: "now", to: "PENDING" },
    FAILED: { kind: "now", to: "PENDING" },
    STOPPED: { kind: "now", to: "PENDING" },
  },
};

/** RUNNING, by the request already waiting for the task to acknowledge. */
const RUNNING: Record<ControlAction, Record<"none" | RequestedAction, Expected>> = {
  pause: {
    none: { kind: "request" },
    pause: { kind: "pending" },
    stop: { kind: "refuse", mentions: "stop" },
    restart: { kind: "refuse", mentions: "restart" },
  },
  resume: {
    none: { kind: "refuse", mentions: "RUNNING" },
    pause: { kind: "withdraw-pause" },
    stop: { kind: "refuse", mentions: "RUNNING" },
    restart: { kind: "refuse", mentions: "RUNNING" },
  },
  stop: {
    none: { kind: "request" },
    // A stop supersedes a pause that has not been acknowledged yet.
    pause: { kind: "request" },
    stop: { kind: "pending" },
    restart: { kind: "refuse", mentions: "restart" },
  },
  restart: {
    none: { kind: "request" },
    pause: { kind: "request" },
    stop: { kind: "refuse", mentions: "stop" },
    restart: { kind: "pending" },
  },
};

function expectedFor(action: ControlAction, status: TaskStatus, requested: Requested): Expected {
  if (status === "RUNNING") return RUNNING[action][requested ?? "none"];
  return NOT_RUNNING[action][status];
}

const cases = ACTIONS.flatMap((action) =>
  STATUSES.flatMap((status) =>
    REQUESTED.map((requested) => ({
      action,
      status,
      requested,
      expected: expectedFor(action, status, requested),
    })),
  ),
);

describe("decideControl", () => {
  test("the table covers every action × status × requested action", () => {
    expect(cases).toHaveLength(4 * 6 * 4);
  });

  test.each(cases)(
    "$action on $status (requested: $requested)",
    ({ action, status, requested, expected }) => {
      const decision = decideControl(action, { status, requestedAction: requested });
      expect(decision.kind).toBe(expected.kind);
      if (expected.kind === "refuse") {
        if (decision.kind !== "refuse") throw new Error("unreachable");
        expect(typeof decision.message).toBe("string");
        expect(decision.message.trim().length).toBeGreaterThan(0);
        expect(decision.message).toContain(expected.mentions);
      } else {
        expect(decision).toEqual(expected);
      }
    },
  );

  test("only restart leaves an ended task, and only to PENDING", () => {
    for (const status of ["FINISHED", "FAILED", "STOPPED"] as const) {
      for (const action of ["pause", "resume", "stop"] as const) {
        expect(decideControl(action, { status, requestedAction: null }).kind).toBe("refuse");
      }
      expect(decideControl("restart", { status, requestedAction: null })).toEqual({
        kind: "now",
        to: "PENDING",
      });
    }
  });

  test("requests that a running task must acknowledge are never applied at once", () => {
    for (const action of ACTIONS) {
      for (const requested of REQUESTED) {
        expect(decideControl(action, { status: "RUNNING", requestedAction: requested }).kind).not.toBe("now");
      }
    }
  });
});
