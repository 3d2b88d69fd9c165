import { nextPhase, type PhaseEvent, RUNNING, type RunPhase } from "../lifecycle/run-phase.ts";
import type { RegisteredTask } from "../registry.ts";
import type { RunHost } from "./run-host.ts";

/** One run of a task on a worker, from assignment until the worker reports its end. */
export interface LiveRun {
  taskId: string;
  task: RegisteredTask;
  host: RunHost;
  /** Where the run stands; changed only through `advance`. */
  phase: RunPhase;
  /**
   * The task's progress has a total (reported in this run, or stored before it): its end as
   * FINISHED completes the progress. Tasks that report none skip that part of the write.
   */
  reportedTotal: boolean;
  /** The task's request context, which the children it spawns continue. */
  context: { traceparent: string | null; requestId: string | null };
  /** The task's attempt this run belongs to (its spawns' replay keys name it). */
  attempt: number;
  /** The children of the `waitFor` that suspends this run, once the engine told it to suspend. */
  waitingFor: string[] | undefined;
  /** How many spawn calls of each (name, params) this run has made: its spawns' replay keys. */
  spawnCalls: Map<string, number>;
  /** performance.now() when the current running stretch began. */
  segmentStart: number;
  /** Running time before the current stretch (paused time excluded), for the timeout. */
  usedMs: number;
  timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The run of a start, on the worker it took; its row, once written, fills in the rest. */
export function newRun(taskId: string, task: RegisteredTask, host: RunHost): LiveRun {
  return {
    taskId,
    task,
    host,
    phase: RUNNING,
    reportedTotal: false,
    context: { traceparent: null, requestId: null },
    attempt: 1,
    waitingFor: undefined,
    spawnCalls: new Map(),
    segmentStart: performance.now(),
    usedMs: 0,
    timeoutTimer: undefined,
    graceTimer: undefined,
  };
}

export function clearRunTimers(run: LiveRun): void {
  if (run.timeoutTimer) clearTimeout(run.timeoutTimer);
  if (run.graceTimer) clearTimeout(run.graceTimer);
  run.timeoutTimer = undefined;
  run.graceTimer = undefined;
}

/** Moves the run to its next phase (`nextPhase`); returns the phase it was in. */
export function advance(run: LiveRun, event: PhaseEvent): RunPhase {
  const before = run.phase;
  run.phase = nextPhase(before, event);
  return before;
}
