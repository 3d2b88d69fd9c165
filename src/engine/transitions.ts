import type { NewTask, NewTaskEvent, TaskPatch, TaskRecord, TaskStore } from "../store/index.ts";
import type { RequestedAction, TaskError, TaskStatus } from "../task/index.ts";
import type { EventHub } from "./events.ts";

/**
 * One named function per transition of DESIGN.md's state machine. Each fires only from the
 * statuses it names (the store guards the UPDATE), writes the row and its history event in
 * one transaction, and announces it. Undefined means the task was not in a status it allows.
 */
export class Transitions {
  constructor(
    private readonly store: TaskStore,
    private readonly hub: EventHub,
  ) {}

  created(task: NewTask, actor: string | null): TaskRecord {
    const event: NewTaskEvent = {
      fromStatus: null,
      toStatus: task.status,
      action: "create",
      reason: null,
      actor,
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
    return this.#move(id, ["PENDING"], patch, { action, reason, actor: "kiln" });
  }

  paused(
    id: string,
    state: unknown,
    reason: string | null,
    actor: string | null,
    from: TaskStatus = "RUNNING",
  ) {
    const patch: TaskPatch = { status: "PAUSED", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    return this.#move(id, [from], patch, { action: "pause", reason, actor });
  }

  resumed(id: string, reason: string | null, actor: string | null) {
    return this.#move(
      id,
      ["PAUSED"],
      { status: "PENDING", statusReason: reason },
      { action: "resume", reason, actor },
    );
  }

  stopped(id: string, from: TaskStatus, reason: string | null, actor: string | null) {
    const patch: TaskPatch = {
      status: "STOPPED",
      endTime: Date.now(),
      requestedAction: null,
      statusReason: reason ?? "stopped",
    };
    return this.#move(id, [from], patch, { action: "stop", reason, actor });
  }

  /** Back to PENDING as a new attempt from the top: checkpoint, progress, result and error cleared. */
  restarted(task: TaskRecord, reason: string | null, actor: string | null) {
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
      runAt: null,
      requestedAction: null,
      statusReason: reason,
    };
    return this.#move(task.id, [task.status], patch, { action: "restart", reason, actor });
  }

  /** Back to PENDING keeping the checkpoint (an interrupted or shutdown-paused run). */
  requeued(id: string, from: TaskStatus, reason: string, actor: string, state?: unknown) {
    const patch: TaskPatch = { status: "PENDING", requestedAction: null, statusReason: reason };
    if (state !== undefined) patch.checkpoint = state;
    return this.#move(id, [from], patch, { action: "requeue", reason, actor });
  }

  finished(id: string, result: unknown) {
    const patch: TaskPatch = {
      status: "FINISHED",
      result: result ?? null,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: null,
      error: null,
    };
    return this.#move(id, ["RUNNING"], patch, { action: "finish", reason: null, actor: "kiln" });
  }

  failed(id: string, from: TaskStatus, error: TaskError) {
    const patch: TaskPatch = {
      status: "FAILED",
      error,
      endTime: Date.now(),
      requestedAction: null,
      statusReason: error.message,
    };
    return this.#move(id, [from], patch, {
      action: "fail",
      reason: `${error.name}: ${error.message}`,
      actor: "kiln",
    });
  }

  retrying(id: string, from: TaskStatus, patch: TaskPatch, reason: string) {
    const full: TaskPatch = { ...patch, status: "PENDING", requestedAction: null, statusReason: reason };
    return this.#move(id, [from], full, { action: "retry", reason, actor: "kiln" });
  }

  /** Stores a request the running task must acknowledge at its next checkpoint. */
  requested(
    task: TaskRecord,
    action: RequestedAction,
    reason: string | null,
    actor: string | null,
  ): TaskRecord {
    return this.#request(task, { requestedAction: action }, action, reason, actor);
  }

  /** A resume that arrives before the running task acknowledged its pause cancels the pause. */
  withdrawPause(task: TaskRecord, reason: string | null, actor: string | null): TaskRecord {
    return this.#request(
      task,
      { requestedAction: null },
      "resume",
      reason ?? "pause withdrawn before a checkpoint",
      actor,
    );
  }

  /** A history row without a status change (what start-up did with a task). */
  note(task: TaskRecord, action: string, reason: string, actor: string): void {
    this.store.updateTask(task.id, {}, { fromStatus: task.status, toStatus: null, action, reason, actor });
  }

  #request(
    task: TaskRecord,
    patch: TaskPatch,
    action: string,
    reason: string | null,
    actor: string | null,
  ): TaskRecord {
    const updated = this.store.updateTask(task.id, patch, {
      fromStatus: task.status,
      toStatus: null,
      action,
      reason,
      actor,
    });
    if (!updated) throw new Error(`task ${task.id} vanished during a ${action} request`);
    this.hub.emit({ type: "request", at: updated.updatedAt, task: updated, action, reason, actor });
    return updated;
  }

  #move(
    id: string,
    from: readonly TaskStatus[],
    patch: TaskPatch,
    event: Pick<NewTaskEvent, "action" | "reason" | "actor">,
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
    });
  }
}
