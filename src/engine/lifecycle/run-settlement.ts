import { type JsonText, type TaskPatch, type TaskRecord, UnreadableValue } from "../../store/index.ts";
import type { TaskError } from "../../task/index.ts";
import type { FromWorker } from "../../worker/protocol.ts";
import type { Unit } from "../commit/unit.ts";
import type { Logger } from "../logger.ts";
import { retryDelayMs } from "../queue/backoff.ts";
import type { RegisteredTask } from "../registry.ts";
import type { LiveRun } from "../runs/runs.ts";
import type { SelfRestarts } from "./self-restarts.ts";
import { decideSettlement, type RunEnding } from "./settlement-table.ts";
import { ENGINE, type Transitions } from "./transitions.ts";

/** How a worker reported the end of a run (or how the engine ended it); a result comes as checked JSON. */
export type RunEnd =
  | { type: "finished"; taskId: string; result: JsonText | undefined }
  | Extract<FromWorker, { type: "failed" | "stopped" | "released" }>
  /** `waitFor` suspended the run; `state` is its last checkpoint state. */
  | { type: "suspended"; taskId: string; state: JsonText | undefined };

export { interruptedError } from "./settlement-table.ts";

/**
 * Decides and writes a task's status once a run has ended: what the run returned, what was
 * asked of it meanwhile (restart, stop, pause), why the engine ended it (timeout, shutdown),
 * and the class's retry policy. A task that goes back to PENDING is handed to `enqueueIfSet` once
 * that is committed.
 */
export class RunSettlement {
  constructor(
    private readonly transitions: Transitions,
    private readonly enqueueIfSet: (task: TaskRecord | undefined) => void,
    private readonly selfRestarts: SelfRestarts,
    private readonly logger: Logger,
  ) {}

  /**
   * `settle`, except that an error other than a storage fault (a bug, or a value the store
   * could not take after all) fails this task alone, rather than the commit it shares with
   * other runs' ends or the process.
   */
  async settleSafely(
    u: Unit,
    run: LiveRun,
    end: RunEnd,
    cause: "shutdown" | undefined,
    ranMs: number,
  ): Promise<void> {
    try {
      await u.attempt((part) => this.settle(part, run, end, cause, ranMs));
    } catch (error) {
      if (u.passOn(error)) throw error;
      this.logger.error(`the end of task ${run.taskId}'s run could not be written; the task fails`, {
        error: error instanceof Error ? error.message : String(error),
      });
      try {
        await u.attempt((part) =>
          this.transitions.failed(part, run.taskId, {
            name: "UnstorableOutcome",
            message: `kiln could not store how this run ended: ${error instanceof Error ? error.message : String(error)}`,
            retryable: false,
          }),
        );
      } catch (again) {
        if (u.passOn(again)) throw again;
        this.logger.error(
          `task ${run.taskId} could not be failed either; it is recovered on the next start`,
          {
            error: again instanceof Error ? again.message : String(again),
          },
        );
      }
    }
  }

  /**
   * A task whose stored params or checkpoint cannot be read (the row was altered outside kiln)
   * cannot run: it fails, with what is wrong, instead of running on a placeholder.
   */
  failIfUnreadable(u: Unit, task: TaskRecord): Promise<boolean> | false {
    const [what, value] =
      task.params instanceof UnreadableValue
        ? ["params", task.params]
        : task.checkpoint instanceof UnreadableValue
          ? ["checkpoint", task.checkpoint]
          : [undefined, undefined];
    // No promise for the common case: a start is on the hot path.
    if (!what || !value) return false;
    return this.transitions
      .failed(u, task.id, {
        name: "UnreadableStoredValue",
        message: `its stored ${what} cannot be read: ${value.unreadable}`,
        retryable: false,
      })
      .then(() => true);
  }

  /**
   * Writes what `decideSettlement` decides for the run's end. `ranMs`: the run's last running
   * stretch, added to the task's active time.
   */
  async settle(
    u: Unit,
    run: LiveRun,
    end: RunEnd,
    cause: "shutdown" | undefined,
    ranMs: number,
  ): Promise<void> {
    const id = run.taskId;
    const phase = run.phase;
    const ending = endingOf(run, end, cause);
    const facts = { retriesLeft: false, resumable: run.task.resumable, timeoutMs: run.task.timeoutMs };
    let decision = decideSettlement(phase, ending, facts);
    if (decision.kind !== "restart" || !decision.self) this.selfRestarts.forget(id);
    if (decision.kind === "none") return;
    if (decision.kind === "finish" && end.type === "finished") {
      // The common end needs no read first: the FINISHED update only applies to a RUNNING row.
      await this.transitions.finished(u, id, end.result, ranMs, run.reportedTotal);
      return;
    }
    const task = await u.tx.getTask(id);
    if (task?.status !== "RUNNING") return;
    // The retry policy needs the row: decide again knowing whether an attempt is left.
    decision = decideSettlement(phase, ending, { ...facts, retriesLeft: hasRetriesLeft(task, run.task) });
    switch (decision.kind) {
      case "restart": {
        if (!decision.self) {
          this.#enqueueIfSet(u, await this.transitions.runRestarted(u, task, decision.reason, decision.by));
          return;
        }
        const ranMs = run.usedMs + (performance.now() - run.segmentStart);
        const { delayMs, inARow } = this.selfRestarts.next(id, ranMs);
        const reason = `${decision.reason ?? "restart requested"} (restart ${inARow} in a row asked by the task; runs again in ${delayMs} ms)`;
        this.#enqueueIfSet(
          u,
          await this.transitions.runRestarted(u, task, reason, decision.by, Date.now() + delayMs),
        );
        return;
      }
      case "stop":
        await this.transitions.runStopped(u, id, decision.reason, decision.by, ranMs);
        return;
      case "pause":
        await this.transitions.paused(u, id, undefined, decision.reason, decision.by, ranMs);
        return;
      case "wait": {
        const state = end.type === "suspended" ? end.state : undefined;
        await this.transitions.waitingForChildren(u, id, run.waitingFor ?? [], state, ranMs, decision.pause);
        return;
      }
      case "requeue":
        this.#enqueueIfSet(
          u,
          await this.transitions.requeued(u, id, decision.reason, ENGINE, undefined, ranMs),
        );
        return;
      case "retry":
      case "fail":
        await this.failOrRetry(u, task, run.task, decision.error, ranMs);
        return;
      case "finish":
      case "none":
        return;
    }
  }

  /** `ranMs`: the running stretch of the run that failed (none when start-up finds it interrupted). */
  async failOrRetry(
    u: Unit,
    task: TaskRecord,
    registered: RegisteredTask | undefined,
    error: TaskError,
    ranMs?: number,
  ): Promise<void> {
    const policy = registered?.retry;
    if (policy && error.retryable && hasRetriesLeft(task, registered)) {
      const retry = task.retries + 1;
      const delay = retryDelayMs(policy, retry);
      const patch: TaskPatch = {
        runAt: Date.now() + delay,
        attempt: task.attempt + 1,
        retries: retry,
        error,
        ...(registered?.resumable ? {} : { checkpoint: null }),
        ...(ranMs === undefined ? {} : { addActiveMs: ranMs }),
      };
      const reason = `retry ${retry} of ${policy.attempts - 1} in ${delay} ms after ${error.name}: ${error.message}`;
      this.#enqueueIfSet(u, await this.transitions.retrying(u, task.id, patch, reason));
    } else {
      await this.transitions.failed(u, task.id, error, ranMs);
    }
  }

  #enqueueIfSet(u: Unit, task: TaskRecord | undefined): void {
    if (task?.status === "PENDING") u.afterCommit(() => this.enqueueIfSet(task));
  }
}

function hasRetriesLeft(task: TaskRecord, registered: RegisteredTask | undefined): boolean {
  const policy = registered?.retry;
  return policy !== undefined && task.retries + 1 < policy.attempts;
}

/** The run's end in the settlement table's terms; a result is checked against its schema here. */
function endingOf(run: LiveRun, end: RunEnd, cause: "shutdown" | undefined): RunEnding {
  if (cause === "shutdown")
    return { kind: "shutdown-terminated", reason: end.type === "stopped" ? end.reason : null };
  switch (end.type) {
    case "finished": {
      const issues = run.task.checkResult(end.result?.value);
      if (issues.length === 0) return { kind: "finished" };
      const detail = issues.map((issue) => `${issue.path || "(root)"} ${issue.message}`).join("; ");
      return { kind: "invalid-result", detail };
    }
    case "failed":
      return { kind: "failed", error: end.error };
    case "stopped":
      return { kind: "stopped", reason: end.reason };
    case "released":
      return { kind: "released" };
    case "suspended":
      // Only a run the engine told to suspend may: one that reports it unasked broke the protocol.
      if (run.waitingFor === undefined) {
        const message = "the task's worker reported a suspension no waitFor asked for";
        return { kind: "failed", error: { name: "ProtocolViolation", message, retryable: false } };
      }
      return { kind: "suspended" };
  }
}
