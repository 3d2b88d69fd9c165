import type { Requester } from "./transitions.ts";

/** A control request the worker has not acted on yet: why, and who asked. */
export interface PendingRequest {
  reason: string | null;
  by: Requester;
}

/**
 * Where one run on a worker stands, as one value. The run's end is settled from it
 * (`decideSettlement`), and only `nextPhase` moves it on.
 *
 * - `running`: holds a concurrency slot; nothing is asked of it.
 * - `pause-requested`, `stop-requested`, `restart-requested`: asked of the run, not acted on yet
 *   (a pause waits for the next checkpoint; a stop or restart for the next checkpoint or the
 *   grace period).
 * - `timing-out`: its time ran out and it was asked to stop; `pendingPause` is a pause asked for
 *   before or after that, which the timeout overrides (README, "The task lifecycle").
 * - `shutting-down`: asked by the engine's shutdown to pause at its next checkpoint.
 * - `parked`: paused at a checkpoint, keeping its worker but no concurrency slot.
 * - `detached`: no longer the task's run (stopped, restarted or released while parked); its end
 *   changes nothing.
 */
export type RunPhase =
  | { kind: "running" }
  | ({ kind: "pause-requested" } & PendingRequest)
  | ({ kind: "stop-requested" } & PendingRequest)
  | ({ kind: "restart-requested" } & PendingRequest)
  | { kind: "timing-out"; pendingPause: PendingRequest | undefined }
  | { kind: "shutting-down" }
  | { kind: "parked" }
  | { kind: "detached" };

export type RunPhaseKind = RunPhase["kind"];

export const RUN_PHASE_KINDS: readonly RunPhaseKind[] = [
  "running",
  "pause-requested",
  "stop-requested",
  "restart-requested",
  "timing-out",
  "shutting-down",
  "parked",
  "detached",
];

/** What happens to a run while it is live. Its end is not one: the run is then gone. */
export type PhaseEvent =
  /** A pause, stop or restart asked of the running task (by a person, or the task itself). */
  | ({ type: "request"; action: "pause" | "stop" | "restart" } & PendingRequest)
  /** A resume that arrived before the pause was acknowledged. */
  | { type: "withdraw-pause" }
  /** The run's time limit passed. */
  | { type: "timeout" }
  /** The engine is shutting down and asks every running run to pause. */
  | { type: "shutdown" }
  /** The worker paused at a checkpoint and that was committed. */
  | { type: "paused" }
  /** A parked run goes on (its start is being written). */
  | { type: "resume" }
  /** The write of a parked run's resume was rolled back. */
  | { type: "resume-undone" }
  /** A parked run's task was stopped or restarted, or its worker is taken back. */
  | { type: "detach" };

export class ImpossiblePhaseChange extends Error {
  constructor(
    readonly phase: RunPhaseKind,
    readonly event: PhaseEvent["type"],
  ) {
    super(`a run in phase ${phase} cannot take the event ${event}`);
    this.name = "ImpossiblePhaseChange";
  }
}

export const RUNNING: RunPhase = { kind: "running" };

/**
 * The allowed phase changes, in one place. An event that may come late and means nothing any
 * more (a timeout after a stop was asked, a shutdown of a parked run) leaves the phase as it is;
 * one the engine never sends in that phase (a pause of a parked run: the task is PAUSED, and the
 * request is decided without the run) throws `ImpossiblePhaseChange`.
 */
export function nextPhase(phase: RunPhase, event: PhaseEvent): RunPhase {
  const impossible = () => new ImpossiblePhaseChange(phase.kind, event.type);
  switch (event.type) {
    case "request": {
      const pending: PendingRequest = { reason: event.reason, by: event.by };
      if (phase.kind === "parked" || phase.kind === "detached") throw impossible();
      if (event.action === "pause") {
        if (phase.kind === "running" || phase.kind === "shutting-down" || phase.kind === "pause-requested")
          return { kind: "pause-requested", ...pending };
        // The timeout overrides a pause; the pause is remembered for the history.
        if (phase.kind === "timing-out") return { kind: "timing-out", pendingPause: pending };
        throw impossible();
      }
      // A stop and a restart exclude each other (decideControl refuses the second).
      if (event.action === "stop" && phase.kind === "restart-requested") throw impossible();
      if (event.action === "restart" && phase.kind === "stop-requested") throw impossible();
      return { kind: event.action === "stop" ? "stop-requested" : "restart-requested", ...pending };
    }
    case "withdraw-pause":
      if (phase.kind === "pause-requested") return RUNNING;
      if (phase.kind === "timing-out" && phase.pendingPause)
        return { kind: "timing-out", pendingPause: undefined };
      throw impossible();
    case "timeout":
      if (phase.kind === "running" || phase.kind === "shutting-down")
        return { kind: "timing-out", pendingPause: undefined };
      if (phase.kind === "pause-requested")
        return { kind: "timing-out", pendingPause: { reason: phase.reason, by: phase.by } };
      // Already stopping, or not running: the timeout has nothing to add.
      return phase;
    case "shutdown":
      return phase.kind === "running" ? { kind: "shutting-down" } : phase;
    case "paused":
      if (phase.kind === "pause-requested" || phase.kind === "shutting-down") return { kind: "parked" };
      throw impossible();
    case "resume":
      if (phase.kind === "parked") return RUNNING;
      throw impossible();
    case "resume-undone":
      if (phase.kind === "running") return { kind: "parked" };
      // Detached meanwhile: it stays so.
      if (phase.kind === "detached") return phase;
      throw impossible();
    case "detach":
      if (phase.kind === "parked") return { kind: "detached" };
      throw impossible();
  }
}

/** Whether the run counts against the concurrency limits (it is on its worker, not paused). */
export function holdsSlot(phase: RunPhase): boolean {
  return phase.kind !== "parked" && phase.kind !== "detached";
}

/** The request the worker has been told of and not acted on, if any (as stored in the task's row). */
export function requestedAction(phase: RunPhase): "pause" | "stop" | "restart" | undefined {
  if (phase.kind === "pause-requested") return "pause";
  if (phase.kind === "stop-requested") return "stop";
  if (phase.kind === "restart-requested") return "restart";
  return undefined;
}
