import { describe, expect, test } from "bun:test";
import {
  ImpossiblePhaseChange,
  nextPhase,
  type PhaseEvent,
  RUN_PHASE_KINDS,
  type RunPhase,
} from "../../src/engine/lifecycle/run-phase.ts";

const ALICE = { actor: "alice", source: "127.0.0.1" };
const asked = { reason: "asked", by: ALICE };

/** One sample of each phase; `timing-out` both with and without a pause pending. */
const PHASES = {
  running: { kind: "running" },
  "pause-requested": { kind: "pause-requested", ...asked },
  "stop-requested": { kind: "stop-requested", ...asked },
  "restart-requested": { kind: "restart-requested", ...asked },
  "timing-out": { kind: "timing-out", pendingPause: undefined },
  "timing-out+pause": { kind: "timing-out", pendingPause: asked },
  "shutting-down": { kind: "shutting-down" },
  parked: { kind: "parked" },
  detached: { kind: "detached" },
} satisfies Record<string, RunPhase>;
type PhaseName = keyof typeof PHASES;

const EVENTS = {
  "request pause": { type: "request", action: "pause", reason: "why", by: ALICE },
  "request stop": { type: "request", action: "stop", reason: "why", by: ALICE },
  "request restart": { type: "request", action: "restart", reason: "why", by: ALICE },
  "withdraw-pause": { type: "withdraw-pause" },
  timeout: { type: "timeout" },
  shutdown: { type: "shutdown" },
  paused: { type: "paused" },
  resume: { type: "resume" },
  "resume-undone": { type: "resume-undone" },
  detach: { type: "detach" },
} satisfies Record<string, PhaseEvent>;
type EventName = keyof typeof EVENTS;

/** The phase it moves to, `same` (the event means nothing here), or `impossible` (it throws). */
type Expected = PhaseName | "same" | "impossible";
const X = "impossible";

// biome-ignore format: a table reads best aligned
const TABLE: Record<PhaseName, Record<EventName, Expected>> = {
  running: { "request pause": "pause-requested", "request stop": "stop-requested", "request restart": "restart-requested", "withdraw-pause": X, timeout: "timing-out", shutdown: "shutting-down", paused: X, resume: X, "resume-undone": "parked", detach: X },
  "pause-requested": { "request pause": "pause-requested", "request stop": "stop-requested", "request restart": "restart-requested", "withdraw-pause": "running", timeout: "timing-out+pause", shutdown: "same", paused: "parked", resume: X, "resume-undone": X, detach: X },
  "stop-requested": { "request pause": X, "request stop": "stop-requested", "request restart": X, "withdraw-pause": X, timeout: "same", shutdown: "same", paused: X, resume: X, "resume-undone": X, detach: X },
  "restart-requested": { "request pause": X, "request stop": X, "request restart": "restart-requested", "withdraw-pause": X, timeout: "same", shutdown: "same", paused: X, resume: X, "resume-undone": X, detach: X },
  "timing-out": { "request pause": "timing-out+pause", "request stop": "stop-requested", "request restart": "restart-requested", "withdraw-pause": X, timeout: "same", shutdown: "same", paused: X, resume: X, "resume-undone": X, detach: X },
  "timing-out+pause": { "request pause": "timing-out+pause", "request stop": "stop-requested", "request restart": "restart-requested", "withdraw-pause": "timing-out", timeout: "same", shutdown: "same", paused: X, resume: X, "resume-undone": X, detach: X },
  "shutting-down": { "request pause": "pause-requested", "request stop": "stop-requested", "request restart": "restart-requested", "withdraw-pause": X, timeout: "timing-out", shutdown: "same", paused: "parked", resume: X, "resume-undone": X, detach: X },
  parked: { "request pause": X, "request stop": X, "request restart": X, "withdraw-pause": X, timeout: "same", shutdown: "same", paused: X, resume: "running", "resume-undone": X, detach: "detached" },
  detached: { "request pause": X, "request stop": X, "request restart": X, "withdraw-pause": X, timeout: "same", shutdown: "same", paused: X, resume: X, "resume-undone": "same", detach: X },
};

function nameOf(phase: RunPhase): PhaseName {
  if (phase.kind === "timing-out" && phase.pendingPause) return "timing-out+pause";
  return phase.kind;
}

describe("nextPhase: every phase × every event", () => {
  test("the samples cover every phase kind", () => {
    const kinds = new Set(Object.values(PHASES).map((phase) => phase.kind));
    expect([...kinds].sort()).toEqual([...RUN_PHASE_KINDS].sort());
  });

  for (const [phaseName, row] of Object.entries(TABLE) as [PhaseName, Record<EventName, Expected>][]) {
    for (const [eventName, expected] of Object.entries(row) as [EventName, Expected][]) {
      test(`${phaseName} + ${eventName} → ${expected}`, () => {
        const phase: RunPhase = PHASES[phaseName];
        const event: PhaseEvent = EVENTS[eventName];
        if (expected === "impossible") {
          expect(() => nextPhase(phase, event)).toThrow(ImpossiblePhaseChange);
          return;
        }
        const next = nextPhase(phase, event);
        if (expected === "same") expect(next).toBe(phase);
        else expect(nameOf(next)).toBe(expected);
      });
    }
  }
});

describe("nextPhase: what a phase carries", () => {
  test("a request keeps its reason and who asked", () => {
    expect(nextPhase(PHASES.running, EVENTS["request stop"])).toEqual({
      kind: "stop-requested",
      reason: "why",
      by: ALICE,
    });
  });

  test("a timeout keeps the pending pause's reason and requester for the history", () => {
    expect(nextPhase(PHASES["pause-requested"], EVENTS.timeout)).toEqual({
      kind: "timing-out",
      pendingPause: asked,
    });
  });

  test("the error names the phase and the event", () => {
    expect(() => nextPhase(PHASES.parked, EVENTS["request pause"])).toThrow(
      "a run in phase parked cannot take the event request",
    );
  });
});
