import type { NewTask, NewTaskEvent, SyncTaskStore, TaskPatch, TaskRecord } from "../store/index.ts";
import type { RequestedAction, TaskError, TaskStatus } from "../task/index.ts";
import type { EventHub } from "./events.ts";

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

/**
 * One named function per transition of the task state machine. Each fires only from the
 * statuses it names (the store guards the UPDATE), writes the row and its history event in
 * one transaction, and announces it. Undefined means the task was not in a status it allows.
 */
export class Transitions {
  constructor(
    private readonly store: SyncTaskStore,
    private readonly hub: EventHub,
  ) {}

  created(task: NewTask, by: Requester, reason: string | null = null): TaskRecord {
    const event: NewTaskEvent = {
      fromStatus: null,
      toStatus: task.status,
      action: "create",
      reason,
      ...by,
    };
    const record = this.store.createTask(task, event);
    this.#announce(record, event);
    return record;
  }

  running(id: string, reason: string | null, action: "start" | "resume"): TaskRecord | undefined {
    const now = Date.now();
    const patch: TaskPatch = {
      status: "RUNNING",
      lastRunTime: now,
      statusReason: reason,
      runAt: null,
      requestedAction: null,
    };
    if (action === "start") patch.startTime = now;
    return this.#move(id, ["PENDING"], patch, { action, reason, ...ENGINE });
  }

  /** `ranMs`: the running stretch this pause ends, added to the task's active time. */
  paused(
    id: string,
    state: unknown,
    reason: string | null,
    by: Requester,
    from: TaskStatus = "RUNNING",
    ranMs?: number,
  ) {
    const patch: TaskPatch = { status: "PAUSED", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(id, [from], patch, { action: "pause", reason, ...by });
  }

  resumed(id: string, reason: string | null, by: Requester) {
    return this.#move(
      id,
      ["PAUSED"],
      { status: "PENDING", statusReason: reason },
      { action: "resume", reason, ...by },
    );
  }

  stopped(id: string, from: TaskStatus, reason: string | null, by: Requester, ranMs?: number) {
    const patch: TaskPatch = {
      status: "STOPPED",
      endTime: Date.now(),
      requestedAction: null,
      statusReason: reason ?? "stopped",
    };
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(id, [from], patch, { action: "stop", reason, ...by });
  }

  /**
   * Back to PENDING as a new attempt from the top: checkpoint, progress, result, error and active
   * time cleared. It may start at once, or not before `runAt` (a task restarting itself in a row).
   */
  restarted(task: TaskRecord, reason: string | null, by: Requester, runAt: number | null = null) {
    const patch: TaskPatch = {
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
    };
    return this.#move(task.id, [task.status], patch, { action: "restart", reason, ...by });
  }

  /** Back to PENDING keeping the checkpoint (an interrupted or shutdown-paused run). */
  requeued(id: string, from: TaskStatus, reason: string, by: Requester, state?: unknown, ranMs?: number) {
    const patch: TaskPatch = { status: "PENDING", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(id, [from], patch, { action: "requeue", reason, ...by });
  }

  /** With `completeProgress`, a total reported and not reached becomes the progress's `done`. */
  finished(id: string, result: unknown, ranMs: number, completeProgress: boolean) {
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
    return this.#move(id, ["RUNNING"], patch, { action: "finish", reason: null, ...ENGINE });
  }

  failed(id: string, from: TaskStatus, error: TaskError, ranMs?: number) {
    const patch: TaskPatch = {
      status: "FAILED",
      error,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: error.message,
    };
    if (ranMs !== undefined) patch.addActiveMs = ranMs;
    return this.#move(id, [from], patch, {
      action: "fail",
      reason: `${error.name}: ${error.message}`,
      ...ENGINE,
    });
  }

  retrying(id: string, from: TaskStatus, patch: TaskPatch, reason: string) {
    const full: TaskPatch = { ...patch, status: "PENDING", requestedAction: null, statusReason: reason };
    return this.#move(id, [from], full, { action: "retry", reason, ...ENGINE });
  }

  /** Stores a request the running task must acknowledge at its next checkpoint. */
  requested(task: TaskRecord, action: RequestedAction, reason: string | null, by: Requester): TaskRecord {
    return this.#request(task, { requestedAction: action }, action, reason, by);
  }

  /** A resume that arrives before the running task acknowledged its pause cancels the pause. */
  withdrawPause(task: TaskRecord, reason: string | null, by: Requester): TaskRecord {
    return this.#request(
      task,
      { requestedAction: null },
      "resume",
      reason ?? "pause withdrawn before a checkpoint",
      by,
    );
  }

  /** A history row without a status change (what start-up did with a task). */
  note(task: TaskRecord, action: string, reason: string, by: Requester): void {
    this.store.updateTask(task.id, {}, { fromStatus: task.status, toStatus: null, action, reason, ...by });
  }

  #request(
    task: TaskRecord,
    patch: TaskPatch,
    action: string,
    reason: string | null,
    by: Requester,
  ): TaskRecord {
    const updated = this.store.updateTask(task.id, patch, {
      fromStatus: task.status,
      toStatus: null,
      action,
      reason,
      ...by,
    });
    if (!updated) throw new Error(`task ${task.id} vanished during a ${action} request`);
    this.hub.emit({ type: "request", at: updated.updatedAt, task: updated, action, reason, ...by });
    return updated;
  }

  #move(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: Pick<NewTaskEvent, "action" | "reason" | "actor" | "source">,
  ): TaskRecord | undefined {
    // The guard holds a single status in every call, so it is also the event's "from".
    const fromStatus = from[0] ?? null;
    const full: NewTaskEvent = { fromStatus, toStatus: patch.status ?? fromStatus, ...event };
    const record = this.store.transition(id, from, patch, full);
    if (record) this.#announce(record, full);
    return record;
  }

  #announce(task: TaskRecord, event: NewTaskEvent): void {
    this.hub.emit({
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
