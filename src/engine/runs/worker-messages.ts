import type { ValueLimits } from "../../task/index.ts";
import type { FromWorker } from "../../worker/protocol.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { TurnCommits } from "../commit/turn-commits.ts";
import { KilnError } from "../errors.ts";
import { TASK_ITSELF } from "../lifecycle/transitions.ts";
import type { Logger } from "../logger.ts";
import type { TelemetryBuffer } from "../upkeep/telemetry.ts";
import { answerWaitFor, type WaitCall } from "./fan-in-call.ts";
import { memoryLimitError } from "./memory-limit.ts";
import type { WorkerPool } from "./pool.ts";
import type { RunExecutor, RunExecutorHooks } from "./run-executor.ts";
import type { RunHost } from "./run-host.ts";
import type { LiveRun } from "./runs.ts";
import { answerSpawn, type SpawnCall } from "./spawn-call.ts";
import { checkWorkerMessage, type RefusedMessage } from "./worker-message.ts";

/**
 * What each message from a worker means for its run: progress, logs and checkpoint states go to
 * the telemetry buffer, a pause or an end to the executor (written in the turn's commit), a
 * task's requests of itself and its spawns to the manager. A worker that exits unexpectedly
 * ends its run as failed.
 */
export class WorkerMessages {
  constructor(
    private readonly executor: RunExecutor,
    private readonly telemetry: TelemetryBuffer,
    private readonly pool: WorkerPool,
    private readonly commits: TurnCommits,
    private readonly hooks: Pick<RunExecutorHooks, "control" | "spawn">,
    private readonly limits: ValueLimits,
    private readonly logger: Logger,
    /** Where a waitFor reads the children it names. */
    private readonly store: Pick<GuardedStore, "getTask" | "awaitedIds">,
  ) {}

  onMessage(host: RunHost, raw: FromWorker): void {
    if (raw.type === "ready") return;
    const run = this.executor.runOn(host);
    if (!run || run.taskId !== raw.taskId) return;
    const checked = checkWorkerMessage(raw, run.taskId, this.limits);
    if (!("message" in checked)) {
      this.#refuse(run, checked);
      return;
    }
    const message = checked.message;
    switch (message.type) {
      case "progress":
        if (run.phase.kind !== "detached") {
          const { done, total, message: text } = message;
          if (total !== undefined) run.reportedTotal = true;
          this.telemetry.progress(run.taskId, { done, total: total ?? null, message: text ?? null });
        }
        return;
      case "log":
        this.telemetry.log(run.taskId, message.level, message.message, message.at);
        return;
      case "checkpoint":
        if (run.phase.kind !== "detached") this.telemetry.checkpoint(run.taskId, message.state);
        return;
      case "paused": {
        // When it paused, not when the write is made: a write kept through a storage fault is late.
        const at = performance.now();
        this.commits.defer(run.taskId, `the pause of task ${run.taskId}`, () =>
          this.executor.pausedAt(run, message.state, at),
        );
        return;
      }
      case "request":
        if (run.phase.kind !== "detached") this.#onSelfRequest(run, message.action, message.reason);
        return;
      case "spawn":
        this.#onSpawn(run, message);
        return;
      case "wait-for":
        this.#onWaitFor(run, message);
        return;
      case "finished":
      case "failed":
      case "stopped":
      case "released":
      case "suspended":
        this.executor.endRun(run, message);
        return;
      case "memory":
        this.logger.warn(`task ${run.taskId} is over its memory limit; its ${host.kind} is ended`, {
          usedBytes: message.usedBytes,
          limitBytes: message.limitBytes,
          measured: message.measured,
        });
        this.pool.terminate(host);
        this.executor.endRun(run, { type: "failed", taskId: run.taskId, error: memoryLimitError(message) });
        return;
      default: {
        const unknown: never = message;
        this.logger.warn("unknown message from a worker", { message: unknown });
      }
    }
  }

  /**
   * A message kiln cannot use. A progress, log or request message is dropped, with a line in the
   * task's log saying why; one about the run's end or its saved state ends the run, which fails.
   */
  #refuse(run: LiveRun, refused: RefusedMessage): void {
    if (!refused.ends) {
      this.telemetry.log(run.taskId, "warn", refused.problem, Date.now());
      return;
    }
    this.logger.warn(`task ${run.taskId}: ${refused.problem}; its ${run.host.kind} is ended`);
    this.pool.terminate(run.host);
    this.executor.endRun(run, {
      type: "failed",
      taskId: run.taskId,
      error: { name: "ProtocolViolation", message: refused.problem, retryable: false },
    });
  }

  #onSelfRequest(run: LiveRun, action: "pause" | "stop" | "restart", reason: string | undefined): void {
    this.hooks.control(action, run.taskId, { ...TASK_ITSELF, reason: reason ?? null }).catch((error) => {
      if (!(error instanceof KilnError)) {
        this.logger.error(`task ${run.taskId}'s own ${action} request failed`, {
          error: String(error),
        });
        return;
      }
      this.telemetry.log(
        run.taskId,
        "warn",
        `the task's own ${action} request was refused: ${error.message}`,
        Date.now(),
      );
    });
  }

  /** Answers a spawn call once its children are committed (or refused); a run that has ended hears nothing. */
  #onSpawn(run: LiveRun, call: SpawnCall): void {
    const spawn = () =>
      run.phase.kind === "detached"
        ? Promise.reject(
            new KilnError("task_not_running", 409, `task ${run.taskId} was stopped or restarted`),
          )
        : this.hooks.spawn(run, call.name, call.paramsJson);
    void answerSpawn(call, spawn, this.logger).then((answer) => {
      if (this.executor.runOn(run.host) === run) run.host.post(answer);
    });
  }

  /**
   * Answers a waitFor call: the outcomes, a refusal, or "suspend" (the run then ends as
   * `suspended`, and its settlement records the wait). A run that has ended hears nothing.
   */
  #onWaitFor(run: LiveRun, call: WaitCall): void {
    void answerWaitFor(call, run, this.store, this.logger).then((answer) => {
      if (this.executor.runOn(run.host) === run) run.host.post(answer);
    });
  }

  onCrash(host: RunHost, exitCode: number | null, signal?: string | null): void {
    const run = this.executor.runOn(host);
    if (!run) return;
    const detail = host.lastError ? `: ${host.lastError}` : "";
    const how = exitCode === null ? `killed by ${signal ?? "a signal"}` : `code ${exitCode}`;
    this.logger.warn(`${host.kind} running task ${run.taskId} exited unexpectedly (${how})${detail}`);
    this.executor.endRun(run, {
      type: "failed",
      taskId: run.taskId,
      error: {
        name: "WorkerCrashed",
        message: `its ${host.kind} exited unexpectedly (${how})${detail}`,
        retryable: true,
      },
    });
  }
}
