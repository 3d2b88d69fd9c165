import type { TaskError } from "../../task/index.ts";
import type { PendingRequest, RunPhase } from "./run-phase.ts";
import { type Requester, TASK_ITSELF } from "./transitions.ts";

/** How a run ended, as the settlement sees it. */
export type RunEnding =
  /** The task returned a result that matches its schema. */
  | { kind: "finished" }
  /** The task returned a result its schema refuses. */
  | { kind: "invalid-result"; detail: string }
  /** The task threw, its worker died, it went over its memory limit or broke the protocol. */
  | { kind: "failed"; error: TaskError }
  /** The task threw TaskStopped (on its own or asked to), or its worker was terminated after the grace period. */
  | { kind: "stopped"; reason: string | null }
  /** The worker gave the task back without ending it. */
  | { kind: "released" }
  /** `waitFor` suspended the run: the task waits for its children. */
  | { kind: "suspended" }
  /** The engine's shutdown terminated the worker after its grace period. */
  | { kind: "shutdown-terminated"; reason: string | null };

export type RunEndingKind = RunEnding["kind"];

/** What the settlement writes. `retry` and `fail` are decided by the retry policy (`retriesLeft`). */
export type SettlementDecision =
  | { kind: "finish" }
  | { kind: "retry"; error: TaskError }
  | { kind: "fail"; error: TaskError }
  | { kind: "stop"; reason: string | null; by: Requester }
  | { kind: "pause"; reason: string | null; by: Requester }
  /**
   * Held back until the children of its `waitFor` have ended, its state saved: PENDING, or
   * PAUSED when a pause was asked meanwhile (resumed, it waits again).
   */
  | { kind: "wait"; pause: PendingRequest | undefined }
  /** Back to PENDING keeping its checkpoint (interrupted by shutdown). */
  | { kind: "requeue"; reason: string }
  /** A new attempt from the top; `self`: the task asked it itself, so the next run waits longer each time. */
  | { kind: "restart"; reason: string | null; by: Requester; self: boolean }
  /** Nothing to write: the run no longer speaks for the task. */
  | { kind: "none" };

export interface SettlementFacts {
  /** The class's retry policy allows another attempt after this one. */
  retriesLeft: boolean;
  /** The class resumes from its checkpoint (a shutdown requeues it rather than failing it). */
  resumable: boolean;
  timeoutMs: number | undefined;
}

export const interruptedError = (why: string): TaskError => ({
  name: "Interrupted",
  message: why,
  retryable: true,
});

export function timeoutError(timeoutMs: number | undefined, pausePending: boolean): TaskError {
  const pending = pausePending ? " while a pause was pending" : "";
  return { name: "TimeoutError", message: `timed out after ${timeoutMs} ms${pending}`, retryable: true };
}

/**
 * The settlement of a run's end, as one pure table: (the run's phase, how it ended) → what is
 * written. In order of precedence:
 *
 * - parked or detached: nothing (the task has moved on without this run);
 * - restart asked: a new attempt, whatever the run did;
 * - a valid result: FINISHED, even with a stop, pause or timeout pending; an invalid one fails;
 * - stop asked: STOPPED, with the request's reason;
 * - suspended by `waitFor`: waiting for its children (PAUSED and waiting when a pause was asked),
 *   unless its time ran out (a timeout under the retry policy);
 * - shutdown terminated it: PAUSED if a pause was asked, else back to PENDING from its
 *   checkpoint (resumable) or interrupted;
 * - timed out: TimeoutError under the retry policy, naming a pause that was pending (the
 *   timeout wins over the pause);
 * - pause asked: PAUSED, unless the failure is unrecoverable (it would fail the same on resume);
 * - otherwise what the run did: its failure under the retry policy, or its own TaskStopped.
 */
export function decideSettlement(
  phase: RunPhase,
  ending: RunEnding,
  facts: SettlementFacts,
): SettlementDecision {
  const failure = (error: TaskError): SettlementDecision =>
    error.retryable && facts.retriesLeft ? { kind: "retry", error } : { kind: "fail", error };
  if (phase.kind === "parked" || phase.kind === "detached") return { kind: "none" };
  if (phase.kind === "restart-requested")
    return {
      kind: "restart",
      reason: phase.reason,
      by: phase.by,
      self: phase.by.actor === TASK_ITSELF.actor,
    };
  if (ending.kind === "finished") return { kind: "finish" };
  if (ending.kind === "invalid-result")
    return failure({
      name: "InvalidResult",
      message: `result does not match its schema: ${ending.detail}`,
      retryable: false,
    });
  if (phase.kind === "stop-requested") {
    const told = ending.kind === "stopped" || ending.kind === "shutdown-terminated" ? ending.reason : null;
    return { kind: "stop", reason: phase.reason ?? told, by: phase.by };
  }
  if (ending.kind === "suspended") {
    if (phase.kind === "timing-out")
      return failure(timeoutError(facts.timeoutMs, phase.pendingPause !== undefined));
    if (phase.kind === "pause-requested")
      return { kind: "wait", pause: { reason: phase.reason, by: phase.by } };
    return { kind: "wait", pause: undefined };
  }
  const pause =
    phase.kind === "pause-requested"
      ? { reason: phase.reason, by: phase.by }
      : phase.kind === "timing-out"
        ? phase.pendingPause
        : undefined;
  if (ending.kind === "shutdown-terminated") {
    if (pause) return { kind: "pause", ...pause };
    if (facts.resumable)
      return { kind: "requeue", reason: "interrupted by shutdown; resumes from its last checkpoint" };
    return failure(interruptedError("interrupted by shutdown; the task is not resumable"));
  }
  // The worker may see the stop flag before the message carrying the reason, so its own
  // account of why it stopped is not used here.
  if (phase.kind === "timing-out") return failure(timeoutError(facts.timeoutMs, pause !== undefined));
  if (phase.kind === "pause-requested") {
    // A failure retrying cannot help (a state kiln refused at the pause, UnrecoverableError) ends
    // the task even with a pause asked for: paused, it would only fail the same way on resume.
    if (ending.kind === "failed" && !ending.error.retryable) return failure(ending.error);
    // The run ended before it could acknowledge the pause: a crash or a terminated worker.
    return { kind: "pause", reason: phase.reason, by: phase.by };
  }
  // Running, or asked by the shutdown to pause and ended otherwise.
  if (ending.kind === "failed") return failure(ending.error);
  if (ending.kind === "stopped") return { kind: "stop", reason: ending.reason, by: TASK_ITSELF };
  return { kind: "none" };
}
