import {
  type JsonText,
  type SyncTaskStore,
  type TaskPatch,
  type TaskRecord,
  UnreadableValue,
} from "../store/index.ts";
import type { TaskError } from "../task/index.ts";
import type { FromWorker } from "../worker/protocol.ts";
import { retryDelayMs } from "./backoff.ts";
import { StorageUnavailableError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { RegisteredTask } from "./registry.ts";
import type { LiveRun } from "./runs.ts";
import type { SelfRestarts } from "./self-restarts.ts";
import { ENGINE, TASK_ITSELF, type Transitions } from "./transitions.ts";

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
 * and the class's retry policy. A task that goes back to PENDING is handed to `enqueueIfSet`.
 */
export class RunSettlement {
  constructor(
    private readonly store: SyncTaskStore,
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
  settleSafely(run: LiveRun, end: RunEnd, cause: "shutdown" | undefined, ranMs: number): void {
    try {
      this.settle(run, end, cause, ranMs);
    } catch (error) {
      if (error instanceof StorageUnavailableError) throw error;
      this.logger.error(`the end of task ${run.taskId}'s run could not be written; the task fails`, {
        error: error instanceof Error ? error.message : String(error),
      });
      try {
        this.transitions.failed(run.taskId, "RUNNING", {
          name: "UnstorableOutcome",
          message: `kiln could not store how this run ended: ${error instanceof Error ? error.message : String(error)}`,
          retryable: false,
        });
      } catch (again) {
        if (again instanceof StorageUnavailableError) throw again;
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
  failIfUnreadable(task: TaskRecord): boolean {
    const [what, value] =
      task.params instanceof UnreadableValue
        ? ["params", task.params]
        : task.checkpoint instanceof UnreadableValue
          ? ["checkpoint", task.checkpoint]
          : [undefined, undefined];
    if (!what || !value) return false;
    this.transitions.failed(task.id, task.status, {
      name: "UnreadableStoredValue",
      message: `its stored ${what} cannot be read: ${value.unreadable}`,
      retryable: false,
    });
    return true;
  }

  /** `ranMs`: the run's last running stretch, added to the task's active time. */
  settle(run: LiveRun, end: RunEnd, cause: "shutdown" | undefined, ranMs: number): void {
    const id = run.taskId;
    const selfRestart = run.requested === "restart" && run.requestBy.actor === TASK_ITSELF.actor;
    if (!selfRestart) this.selfRestarts.forget(id);
    const issues = end.type === "finished" ? run.task.checkResult(end.result?.value) : [];
    if (end.type === "finished" && issues.length === 0 && run.requested !== "restart") {
      // The common end needs no read first: the FINISHED update only applies to a RUNNING row.
      this.transitions.finished(id, end.result, ranMs, run.reportedTotal);
      return;
    }
    const task = this.store.getTask(id);
    if (task?.status !== "RUNNING") return;
    if (selfRestart) {
      const ranMs = run.usedMs + (performance.now() - run.segmentStart);
      const { delayMs, inARow } = this.selfRestarts.next(id, ranMs);
      const reason = `${run.requestReason ?? "restart requested"} (restart ${inARow} in a row asked by the task; runs again in ${delayMs} ms)`;
      this.enqueueIfSet(this.transitions.restarted(task, reason, run.requestBy, Date.now() + delayMs));
      return;
    }
    if (run.requested === "restart") {
      this.enqueueIfSet(this.transitions.restarted(task, run.requestReason, run.requestBy));
      return;
    }
    if (end.type === "finished") {
      const detail = issues.map((issue) => `${issue.path || "(root)"} ${issue.message}`).join("; ");
      this.failOrRetry(
        task,
        run.task,
        { name: "InvalidResult", message: `result does not match its schema: ${detail}`, retryable: false },
        ranMs,
      );
      return;
    }
    if (run.requested === "stop") {
      this.transitions.stopped(
        id,
        "RUNNING",
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
        this.transitions.paused(id, undefined, run.requestReason, run.requestBy, "RUNNING", ranMs);
      } else if (run.task.resumable) {
        this.enqueueIfSet(
          this.transitions.requeued(
            id,
            "RUNNING",
            "interrupted by shutdown; resumes from its last checkpoint",
            ENGINE,
            undefined,
            ranMs,
          ),
        );
      } else {
        this.failOrRetry(
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
      this.failOrRetry(
        task,
        run.task,
        { name: "TimeoutError", message: `timed out after ${run.task.timeoutMs} ms`, retryable: true },
        ranMs,
      );
      return;
    }
    if (end.type === "failed") {
      this.failOrRetry(task, run.task, end.error, ranMs);
    } else if (end.type === "stopped") {
      // The task threw TaskStopped on its own.
      this.transitions.stopped(id, "RUNNING", end.reason, TASK_ITSELF, ranMs);
    }
  }

  /** `ranMs`: the running stretch of the run that failed (none when start-up finds it interrupted). */
  failOrRetry(
    task: TaskRecord,
    registered: RegisteredTask | undefined,
    error: TaskError,
    ranMs?: number,
  ): void {
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
      this.enqueueIfSet(this.transitions.retrying(task.id, task.status, patch, reason));
    } else {
      this.transitions.failed(task.id, task.status, error, ranMs);
    }
  }
}
