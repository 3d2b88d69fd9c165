import { type JsonText, type TaskPatch, type TaskRecord, UnreadableValue } from "../store/index.ts";
import type { TaskError } from "../task/index.ts";
import type { FromWorker } from "../worker/protocol.ts";
import { retryDelayMs } from "./backoff.ts";
import type { Logger } from "./logger.ts";
import type { RegisteredTask } from "./registry.ts";
import type { LiveRun } from "./runs.ts";
import type { SelfRestarts } from "./self-restarts.ts";
import { ENGINE, TASK_ITSELF, type Transitions } from "./transitions.ts";
import type { Unit } from "./unit.ts";

/** How a worker reported the end of a run (or how the engine ended it); a result comes as checked JSON. */
export type RunEnd =
  | { type: "finished"; taskId: string; result: JsonText | undefined }
  | Extract<FromWorker, { type: "failed" | "stopped" | "released" }>;

export const interruptedError = (why: string): TaskError => ({
  name: "Interrupted",
  message: why,
  retryable: true,
});

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

  /** `ranMs`: the run's last running stretch, added to the task's active time. */
  async settle(
    u: Unit,
    run: LiveRun,
    end: RunEnd,
    cause: "shutdown" | undefined,
    ranMs: number,
  ): Promise<void> {
    const id = run.taskId;
    const selfRestart = run.requested === "restart" && run.requestBy.actor === TASK_ITSELF.actor;
    if (!selfRestart) this.selfRestarts.forget(id);
    const issues = end.type === "finished" ? run.task.checkResult(end.result?.value) : [];
    if (end.type === "finished" && issues.length === 0 && run.requested !== "restart") {
      // The common end needs no read first: the FINISHED update only applies to a RUNNING row.
      await this.transitions.finished(u, id, end.result, ranMs, run.reportedTotal);
      return;
    }
    const task = await u.tx.getTask(id);
    if (task?.status !== "RUNNING") return;
    if (selfRestart) {
      const ranMs = run.usedMs + (performance.now() - run.segmentStart);
      const { delayMs, inARow } = this.selfRestarts.next(id, ranMs);
      const reason = `${run.requestReason ?? "restart requested"} (restart ${inARow} in a row asked by the task; runs again in ${delayMs} ms)`;
      this.#enqueueIfSet(
        u,
        await this.transitions.runRestarted(u, task, reason, run.requestBy, Date.now() + delayMs),
      );
      return;
    }
    if (run.requested === "restart") {
      this.#enqueueIfSet(u, await this.transitions.runRestarted(u, task, run.requestReason, run.requestBy));
      return;
    }
    if (end.type === "finished") {
      const detail = issues.map((issue) => `${issue.path || "(root)"} ${issue.message}`).join("; ");
      await this.failOrRetry(
        u,
        task,
        run.task,
        { name: "InvalidResult", message: `result does not match its schema: ${detail}`, retryable: false },
        ranMs,
      );
      return;
    }
    if (run.requested === "stop") {
      await this.transitions.runStopped(
        u,
        id,
        run.requestReason ?? (end.type === "stopped" ? end.reason : null),
        run.requestBy,
        ranMs,
      );
      return;
    }
    // A failure retrying cannot help (a state kiln refused at the pause, UnrecoverableError) ends
    // the task even with a pause asked for: paused, it would only fail the same way on resume.
    const unrecoverable = end.type === "failed" && !end.error.retryable;
    if ((run.requested === "pause" || cause === "shutdown") && !unrecoverable) {
      // The run ended before it could acknowledge a pause: a crash or a terminated worker.
      if (run.requested === "pause") {
        await this.transitions.paused(u, id, undefined, run.requestReason, run.requestBy, ranMs);
      } else if (run.task.resumable) {
        this.#enqueueIfSet(
          u,
          await this.transitions.requeued(
            u,
            id,
            "interrupted by shutdown; resumes from its last checkpoint",
            ENGINE,
            undefined,
            ranMs,
          ),
        );
      } else {
        await this.failOrRetry(
          u,
          task,
          run.task,
          interruptedError("interrupted by shutdown; the task is not resumable"),
          ranMs,
        );
      }
      return;
    }
    if (run.cause === "timeout") {
      // The worker may see the stop flag before the message carrying the reason, so its own
      // account of why it stopped is not used here.
      await this.failOrRetry(
        u,
        task,
        run.task,
        { name: "TimeoutError", message: `timed out after ${run.task.timeoutMs} ms`, retryable: true },
        ranMs,
      );
      return;
    }
    if (end.type === "failed") {
      await this.failOrRetry(u, task, run.task, end.error, ranMs);
    } else if (end.type === "stopped") {
      // The task threw TaskStopped on its own.
      await this.transitions.runStopped(u, id, end.reason, TASK_ITSELF, ranMs);
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
    if (policy && error.retryable && task.retries + 1 < policy.attempts) {
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
