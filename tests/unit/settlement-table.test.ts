import { describe, expect, test } from "bun:test";
import type { RunPhase } from "../../src/engine/lifecycle/run-phase.ts";
import {
  decideSettlement,
  type RunEnding,
  type SettlementDecision,
  type SettlementFacts,
} from "../../src/engine/lifecycle/settlement-table.ts";
import { TASK_ITSELF } from "../../src/engine/lifecycle/transitions.ts";

const ALICE = { actor: "alice", source: null };
const asked = { reason: "asked", by: ALICE };

const PHASES = {
  running: { kind: "running" },
  "shutting-down": { kind: "shutting-down" },
  "pause-requested": { kind: "pause-requested", ...asked },
  "stop-requested": { kind: "stop-requested", ...asked },
  "restart-requested": { kind: "restart-requested", ...asked },
  "self-restart": { kind: "restart-requested", reason: "again", by: TASK_ITSELF },
  "timing-out": { kind: "timing-out", pendingPause: undefined },
  "timing-out+pause": { kind: "timing-out", pendingPause: asked },
  parked: { kind: "parked" },
  detached: { kind: "detached" },
} satisfies Record<string, RunPhase>;
type PhaseName = keyof typeof PHASES;

const ENDINGS = {
  finished: { kind: "finished" },
  "invalid-result": { kind: "invalid-result", detail: "(root) expected a number" },
  failed: { kind: "failed", error: { name: "Boom", message: "it broke", retryable: true } },
  unrecoverable: { kind: "failed", error: { name: "Boom", message: "it broke", retryable: false } },
  stopped: { kind: "stopped", reason: "thrown" },
  released: { kind: "released" },
  suspended: { kind: "suspended" },
  "shutdown-terminated": { kind: "shutdown-terminated", reason: "terminated at shutdown" },
} satisfies Record<string, RunEnding>;
type EndingName = keyof typeof ENDINGS;

/** A retry left and a resumable class, then neither. */
const GENEROUS: SettlementFacts = { retriesLeft: true, resumable: true, timeoutMs: 50 };
const STRICT: SettlementFacts = { retriesLeft: false, resumable: false, timeoutMs: 50 };

/** `[with GENEROUS, with STRICT]`, or one value for both. */
type Cell = string | [string, string];

function describeDecision(decision: SettlementDecision): string {
  switch (decision.kind) {
    case "retry":
    case "fail":
      return `${decision.kind}:${decision.error.name}`;
    case "stop":
    case "pause":
      return `${decision.kind}:${decision.by.actor === TASK_ITSELF.actor ? "task" : "asked"}`;
    case "restart":
      return decision.self ? "restart:self" : "restart:asked";
    case "wait":
      return decision.pause ? "wait:paused" : "wait";
    default:
      return decision.kind;
  }
}

const FAILED: Cell = ["retry:Boom", "fail:Boom"];
const TIMEOUT: Cell = ["retry:TimeoutError", "fail:TimeoutError"];
const SHUTDOWN: Cell = ["requeue", "fail:Interrupted"];
const INVALID = "fail:InvalidResult";
const all = (cell: Cell): Record<EndingName, Cell> =>
  Object.fromEntries(Object.keys(ENDINGS).map((name) => [name, cell])) as Record<EndingName, Cell>;

// biome-ignore format: a table reads best aligned
const TABLE: Record<PhaseName, Record<EndingName, Cell>> = {
  running: { finished: "finish", "invalid-result": INVALID, failed: FAILED, unrecoverable: "fail:Boom", stopped: "stop:task", released: "none", suspended: "wait", "shutdown-terminated": SHUTDOWN },
  "shutting-down": { finished: "finish", "invalid-result": INVALID, failed: FAILED, unrecoverable: "fail:Boom", stopped: "stop:task", released: "none", suspended: "wait", "shutdown-terminated": SHUTDOWN },
  "pause-requested": { finished: "finish", "invalid-result": INVALID, failed: "pause:asked", unrecoverable: "fail:Boom", stopped: "pause:asked", released: "pause:asked", suspended: "wait:paused", "shutdown-terminated": "pause:asked" },
  "stop-requested": { finished: "finish", "invalid-result": INVALID, failed: "stop:asked", unrecoverable: "stop:asked", stopped: "stop:asked", released: "stop:asked", suspended: "stop:asked", "shutdown-terminated": "stop:asked" },
  "restart-requested": all("restart:asked"),
  "self-restart": all("restart:self"),
  "timing-out": { finished: "finish", "invalid-result": INVALID, failed: TIMEOUT, unrecoverable: TIMEOUT, stopped: TIMEOUT, released: TIMEOUT, suspended: TIMEOUT, "shutdown-terminated": SHUTDOWN },
  "timing-out+pause": { finished: "finish", "invalid-result": INVALID, failed: TIMEOUT, unrecoverable: TIMEOUT, stopped: TIMEOUT, released: TIMEOUT, suspended: TIMEOUT, "shutdown-terminated": "pause:asked" },
  parked: all("none"),
  detached: all("none"),
};

describe("decideSettlement: every phase × every ending", () => {
  for (const [phaseName, row] of Object.entries(TABLE) as [PhaseName, Record<EndingName, Cell>][]) {
    for (const [endingName, cell] of Object.entries(row) as [EndingName, Cell][]) {
      const [generous, strict] = typeof cell === "string" ? [cell, cell] : cell;
      test(`${phaseName} + ${endingName} → ${generous} / ${strict}`, () => {
        const phase: RunPhase = PHASES[phaseName];
        const ending: RunEnding = ENDINGS[endingName];
        expect(describeDecision(decideSettlement(phase, ending, GENEROUS))).toBe(generous);
        expect(describeDecision(decideSettlement(phase, ending, STRICT))).toBe(strict);
      });
    }
  }
});

describe("decideSettlement: what a decision carries", () => {
  test("a run suspended by waitFor with a pause asked waits paused, with the pause's reason and requester", () => {
    expect(decideSettlement(PHASES["pause-requested"], ENDINGS.suspended, GENEROUS)).toEqual({
      kind: "wait",
      pause: { reason: "asked", by: ALICE },
    });
  });

  test("a stop asked keeps the request's reason and requester", () => {
    const decision = decideSettlement(PHASES["stop-requested"], ENDINGS.stopped, GENEROUS);
    expect(decision).toEqual({ kind: "stop", reason: "asked", by: ALICE });
  });

  test("a stop asked without a reason takes the run's own", () => {
    const phase: RunPhase = { kind: "stop-requested", reason: null, by: ALICE };
    expect(decideSettlement(phase, ENDINGS.stopped, GENEROUS)).toEqual({
      kind: "stop",
      reason: "thrown",
      by: ALICE,
    });
  });

  test("a timeout with a pause pending says so; one without does not", () => {
    const withPause = decideSettlement(PHASES["timing-out+pause"], ENDINGS.stopped, GENEROUS);
    const without = decideSettlement(PHASES["timing-out"], ENDINGS.stopped, GENEROUS);
    expect(withPause.kind === "retry" && withPause.error.message).toBe(
      "timed out after 50 ms while a pause was pending",
    );
    expect(without.kind === "retry" && without.error.message).toBe("timed out after 50 ms");
  });

  test("shutdown: a resumable class with no retries left is requeued, a non-resumable one with retries is retried", () => {
    const ending = ENDINGS["shutdown-terminated"];
    expect(decideSettlement(PHASES.running, ending, { ...STRICT, resumable: true }).kind).toBe("requeue");
    expect(
      describeDecision(decideSettlement(PHASES.running, ending, { ...GENEROUS, resumable: false })),
    ).toBe("retry:Interrupted");
  });

  test("an invalid result names what the schema refused", () => {
    const decision = decideSettlement(PHASES.running, ENDINGS["invalid-result"], GENEROUS);
    expect(decision.kind === "fail" && decision.error.message).toBe(
      "result does not match its schema: (root) expected a number",
    );
  });
});
