import type { NewTask, NewTaskEvent, TaskPatch, TaskRecord } from "../../store/index.ts";
import {
  type EventAction,
  type RequestedAction,
  TASK_STATUSES,
  type TaskError,
  type TaskStatus,
} from "../../task/index.ts";
import type { Unit } from "../commit/unit.ts";
import type { RunFences } from "../runs/run-fences.ts";

/** Who asked for a change and from where, as recorded in the task's history. */
export interface Requester {
  /** A token's label, "anonymous", "kiln" (the engine itself) or "task" (the task asked). */
  actor: string | null;
  /** The client's address when the request came over HTTP; null otherwise. */
  source: string | null;
}

/** The engine acting on its own (scheduling, retries, restoring after a restart). */
export const ENGINE: Requester = { actor: "kiln", source: null };

/** The task asked for the change itself (its own pause, stop or restart, or TaskStopped). */
export const TASK_ITSELF: Requester = { actor: "task", source: null };

/** The statuses a stop of a task with no live run applies to. */
const STOP_AT_ONCE: readonly TaskStatus[] = ["PENDING", "PAUSED"];

/** The statuses a restart of a task with no live run applies to. */
const NOT_RUNNING: readonly TaskStatus[] = TASK_STATUSES.filter((status) => status !== "RUNNING");

type EventFields = { action: EventAction; reason: string | null } & Requester;

/**
 * One named function per transition of the task state machine. Each fires only from the
 * statuses the state machine allows it (the store guards the UPDATE), writes the row and its
 * history event in the unit's transaction, and is announced once that is committed. Undefined
 * means the task was not in a status it allows: the caller decides again from what is stored.
 */
export class Transitions {
  /** The claims writes about runs are fenced with; none on a store one node has to itself. */
  constructor(private readonly fences?: RunFences) {}

  created(u: Unit, task: NewTask, by: Requester, reason: string | null = null): Promise<TaskRecord> {
    const event: NewTaskEvent = { fromStatus: null, toStatus: task.status, action: "create", reason, ...by };
    // .then rather than async/await here and in #move: one promise less on every write.
    return u.tx.createTask(task, event).then((record) => {
      this.#announce(u, record, event);
      return record;
    });
  }

  /** PENDING → RUNNING: a run starts, or a parked run goes on where it paused. */
  running(u: Unit, id: string, reason: string | null, action: "start" | "resume") {
    const now = Date.now();
    const patch: TaskPatch = {
      status: "RUNNING",
      lastRunTime: now,
      statusReason: reason,
      runAt: null,
      requestedAction: null,
    };
    if (action === "start") patch.startTime = now;
    return this.#move(u, id, "PENDING", patch, { action, reason, ...ENGINE });
  }

  /** PENDING → RUNNING by a claim (the store wrote the row and its event): announced like any start. */
  claimed(u: Unit, task: TaskRecord): void {
    this.#announce(u, task, {
      fromStatus: "PENDING",
      toStatus: "RUNNING",
      action: "start",
      reason: null,
      ...ENGINE,
    });
  }

  /**
   * RUNNING → PAUSED: the run acknowledged a pause at a checkpoint (or ended while one was
   * asked). `ranMs`: the running stretch this pause ends, added to the task's active time.
   */
  paused(u: Unit, id: string, state: unknown, reason: string | null, by: Requester, ranMs?: number) {
    const patch: TaskPatch = { status: "PAUSED", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(u, id, "RUNNING", patch, { action: "pause", reason, ...by });
  }

  /** PENDING → PAUSED: a pause of a task that has not started, at once. */
  pausedBeforeStart(u: Unit, id: string, reason: string | null, by: Requester) {
    const patch: TaskPatch = { status: "PAUSED", requestedAction: null, statusReason: reason };
    return this.#move(u, id, "PENDING", patch, { action: "pause", reason, ...by });
  }

  /** PAUSED → PENDING. */
  resumed(u: Unit, id: string, reason: string | null, by: Requester) {
    const patch: TaskPatch = { status: "PENDING", statusReason: reason };
    return this.#move(u, id, "PAUSED", patch, { action: "resume", reason, ...by });
  }

  /** PENDING or PAUSED → STOPPED: a stop of a task with no run, at once. */
  async stopped(u: Unit, id: string, reason: string | null, by: Requester) {
    const task = await u.tx.getTask(id);
    if (!task || !STOP_AT_ONCE.includes(task.status)) return undefined;
    return this.#move(u, id, task.status, stopPatch(reason), { action: "stop", reason, ...by });
  }

  /** RUNNING → STOPPED: the run ended on a stop (asked, or the task's own TaskStopped). */
  runStopped(u: Unit, id: string, reason: string | null, by: Requester, ranMs?: number) {
    const patch = stopPatch(reason);
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(u, id, "RUNNING", patch, { action: "stop", reason, ...by });
  }

  /**
   * Any status but RUNNING → PENDING as a new attempt from the top: checkpoint, progress,
   * result, error and active time cleared.
   */
  async restarted(u: Unit, id: string, reason: string | null, by: Requester) {
    const task = await u.tx.getTask(id);
    if (!task || !NOT_RUNNING.includes(task.status)) return undefined;
    return this.#move(u, id, task.status, restartPatch(task, reason, null), {
      action: "restart",
      reason,
      ...by,
    });
  }

  /**
   * RUNNING → PENDING as a new attempt, once the run asked to restart has ended (`task` is the
   * row read in this unit). It may start at once, or not before `runAt` (a task restarting
   * itself in a row).
   */
  runRestarted(u: Unit, task: TaskRecord, reason: string | null, by: Requester, runAt: number | null = null) {
    return this.#move(u, task.id, "RUNNING", restartPatch(task, reason, runAt), {
      action: "restart",
      reason,
      ...by,
    });
  }

  /** RUNNING → PENDING keeping the checkpoint (an interrupted or shutdown-paused run). */
  requeued(u: Unit, id: string, reason: string, by: Requester, state?: unknown, ranMs?: number) {
    const patch: TaskPatch = { status: "PENDING", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(u, id, "RUNNING", patch, { action: "requeue", reason, ...by });
  }

  /**
   * RUNNING → PENDING held back (`awaiting` "children") until the children `ids` of its `waitFor`
   * have ended, its state saved as at a checkpoint; or RUNNING → PAUSED, still held back, when a
   * pause was asked meanwhile. The ids replace the task's earlier wait. Fenced like any run's end.
   */
  async waitingForChildren(
    u: Unit,
    id: string,
    ids: readonly string[],
    state: unknown,
    ranMs: number,
    pause: { reason: string | null; by: Requester } | undefined,
  ): Promise<TaskRecord | undefined> {
    const reason = pause?.reason ?? waitReason(ids.length);
    const patch: TaskPatch = {
      status: pause ? "PAUSED" : "PENDING",
      awaiting: "children",
      requestedAction: null,
      statusReason: reason,
      addActiveMs: ranMs,
    };
    if (state !== undefined) patch.checkpoint = state;
    // History: the pause, or a requeue (waiting for the children is a return to PENDING).
    const event: EventFields = pause
      ? { action: "pause", reason, ...pause.by }
      : { action: "requeue", reason, ...ENGINE };
    const moved = await this.#move(u, id, "RUNNING", patch, event);
    if (moved) await u.tx.addAwaited(id, "children", ids);
    return moved;
  }

  /** RUNNING → FINISHED. With `completeProgress`, a total reported and not reached becomes `done`. */
  finished(u: Unit, id: string, result: unknown, ranMs: number, completeProgress: boolean) {
    const patch: TaskPatch = {
      status: "FINISHED",
      result: result ?? null,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: null,
      error: null,
      addActiveMs: ranMs,
    };
    if (completeProgress) patch.completeProgress = true;
    return this.#move(u, id, "RUNNING", patch, { action: "finish", reason: null, ...ENGINE });
  }

  /** RUNNING → FAILED. */
  failed(u: Unit, id: string, error: TaskError, ranMs?: number) {
    const patch: TaskPatch = {
      status: "FAILED",
      error,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: error.message,
    };
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    const reason = `${error.name}: ${error.message}`;
    return this.#move(u, id, "RUNNING", patch, { action: "fail", reason, ...ENGINE });
  }

  /** RUNNING → PENDING for another attempt after a failure. */
  retrying(u: Unit, id: string, patch: TaskPatch, reason: string) {
    const full: TaskPatch = { ...patch, status: "PENDING", requestedAction: null, statusReason: reason };
    return this.#move(u, id, "RUNNING", full, { action: "retry", reason, ...ENGINE });
  }

  /** PENDING → PENDING, free to start: what it waited for (dependencies, children) has ended. */
  awaitOver(u: Unit, id: string, reason: string | null) {
    const patch: TaskPatch = { awaiting: null, statusReason: reason };
    return this.#move(u, id, "PENDING", patch, {
      action: "requeue",
      reason: reason ?? "dependencies finished",
      ...ENGINE,
    });
  }

  /** PENDING → FAILED without a run: a dependency did not finish (onDependencyFailure "fail"). */
  dependencyFailed(u: Unit, id: string, reason: string) {
    const error: TaskError = { name: "DependencyFailed", message: reason, retryable: false };
    const patch: TaskPatch = {
      status: "FAILED",
      error,
      awaiting: null,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: reason,
    };
    return this.#move(u, id, "PENDING", patch, { action: "fail", reason, ...ENGINE });
  }

  /** Stores a request the running task must acknowledge at its next checkpoint (RUNNING only). */
  requested(u: Unit, id: string, action: RequestedAction, reason: string | null, by: Requester) {
    return this.#request(u, id, { requestedAction: action }, action, reason, by);
  }

  /** A resume that arrives before the running task acknowledged its pause cancels the pause. */
  withdrawPause(u: Unit, id: string, reason: string | null, by: Requester) {
    return this.#request(
      u,
      id,
      { requestedAction: null },
      "resume",
      reason ?? "pause withdrawn before a checkpoint",
      by,
    );
  }

  /** A history row without a status change (what start-up did with a task). */
  async note(u: Unit, task: TaskRecord, action: EventAction, reason: string, by: Requester): Promise<void> {
    await u.tx.updateTask(task.id, {}, { fromStatus: task.status, toStatus: null, action, reason, ...by });
  }

  async #request(
    u: Unit,
    id: string,
    patch: TaskPatch,
    action: EventAction,
    reason: string | null,
    by: Requester,
  ): Promise<TaskRecord | undefined> {
    const event: NewTaskEvent = { fromStatus: "RUNNING", toStatus: null, action, reason, ...by };
    // Unfenced when the run is another node's: a request is written for its owner to read.
    const updated = await u.tx.transition(id, ["RUNNING"], patch, event, this.fences?.get(id));
    if (updated) u.announce({ type: "request", at: updated.updatedAt, task: updated, action, reason, ...by });
    return updated;
  }

  #move(
    u: Unit,
    id: string,
    from: TaskStatus,
    patch: TaskPatch,
    event: EventFields,
  ): Promise<TaskRecord | undefined> {
    const full: NewTaskEvent = { fromStatus: from, toStatus: patch.status ?? from, ...event };
    const fence = from === "RUNNING" ? this.fences?.get(id) : undefined;
    // A run that ends or pauses leaves its node: the task is no one's until it is claimed again.
    const written = fence && patch.status !== "RUNNING" ? { ...patch, node: null } : patch;
    return u.tx.transition(id, [from], written, full, fence).then((record) => {
      if (record) this.#announce(u, record, full);
      // The run is over on this node once its end is committed, or at once when the fence
      // refused the write: the claim is no longer this node's.
      if (fence && this.fences?.holds(id)) {
        if (!record) this.fences.release(id);
        else if (record.status !== "RUNNING") u.afterCommit(() => this.fences?.release(id));
      }
      return record;
    });
  }

  #announce(u: Unit, task: TaskRecord, event: NewTaskEvent): void {
    u.announce({
      type: "transition",
      at: task.updatedAt,
      task,
      from: event.fromStatus,
      to: event.toStatus ?? task.status,
      action: event.action,
      reason: event.reason,
      actor: event.actor,
      source: event.source,
    });
  }
}

function waitReason(count: number): string {
  return `waiting for ${count === 1 ? "its child" : `${count} children`} (waitFor)`;
}

function stopPatch(reason: string | null): TaskPatch {
  return { status: "STOPPED", endTime: Date.now(), requestedAction: null, statusReason: reason ?? "stopped" };
}

function restartPatch(task: TaskRecord, reason: string | null, runAt: number | null): TaskPatch {
  return {
    status: "PENDING",
    attempt: task.attempt + 1,
    retries: 0,
    checkpoint: null,
    progress: null,
    result: null,
    error: null,
    startTime: null,
    endTime: null,
    runAt,
    requestedAction: null,
    statusReason: reason,
    activeMs: 0,
    // A new attempt waits for its dependencies again (decided anew), never for an old wait's children.
    awaiting: task.dependencyPolicy === null ? null : "dependencies",
  };
}
