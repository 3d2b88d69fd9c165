/**
 * Pausing a whole task name: durable (a row in the store), honoured by the dispatcher (no new
 * task of the name starts; they wait PENDING with the reason shown), and optionally asking the
 * name's running tasks to pause at their next checkpoint too.
 *
 * - The pause is written first and the dispatcher told after: a task admitted in between started
 *   before the pause was recorded, as if asked a moment later.
 * - With `running: "pause"`, each RUNNING task of the name is paused like `POST
 *   /tasks/:id/pause` with the reason TASK_NAME_PAUSED; resuming the name resumes the PAUSED
 *   tasks whose status reason is that one, and no others (a task paused on its own stays paused).
 * - At start-up the manager reads the store's pauses before it restores and queues anything.
 */
import type { TaskRecord, TaskStore, TaskTypePause } from "../../store/index.ts";
import type { ControlOptions } from "../manager-options.ts";
import type { TaskDispatch } from "../queue/task-dispatch.ts";

/** Pages of RUNNING or PAUSED tasks read at once when pausing or resuming a name's runs. */
const PAGE = 500;

export interface TaskTypePauseOptions {
  actor?: string | null;
  source?: string | null;
  /** "pause": the name's running tasks pause at their next checkpoint too. */
  running?: "keep" | "pause";
}

export interface TaskTypePauseOutcome {
  pause: TaskTypePause;
  /** Running tasks asked to pause (with `running: "pause"`). */
  runsAskedToPause: number;
}

/** The status reason of a task paused because its name was. */
export function taskNamePausedReason(name: string): string {
  return `task name "${name}" paused`;
}

/** What a PENDING task of a paused name shows while it waits. */
export function waitingForNameReason(pause: TaskTypePause): string {
  const by = pause.pausedBy ? ` by ${pause.pausedBy}` : "";
  return `task name "${pause.taskName}" is paused${by} since ${new Date(pause.pausedAt).toISOString()}; it starts once the name is resumed`;
}

type Control = (id: string, options: ControlOptions) => Promise<unknown>;

export class TaskTypePauses {
  constructor(
    private readonly store: TaskStore,
    private readonly dispatcher: TaskDispatch,
    private readonly pauseTask: Control,
    private readonly resumeTask: Control,
  ) {}

  /** Reads the store's pauses into the dispatcher: before anything is queued at start-up. */
  async restore(): Promise<void> {
    for (const pause of await this.store.listTaskTypePauses()) {
      this.dispatcher.pauseName(pause.taskName, waitingForNameReason(pause));
    }
  }

  /**
   * Reads the store's pauses again into a dispatcher that shows them (nodes sharing a database:
   * a name paused or resumed through another node shows its reason here too).
   */
  async sync(): Promise<void> {
    if (!this.dispatcher.setPausedNames) return;
    const pauses = await this.store.listTaskTypePauses();
    this.dispatcher.setPausedNames(
      new Map(pauses.map((pause) => [pause.taskName, waitingForNameReason(pause)])),
    );
  }

  async pause(name: string, options: TaskTypePauseOptions = {}): Promise<TaskTypePauseOutcome> {
    const pause = await this.store.pauseTaskType({
      taskName: name,
      pausedBy: options.actor ?? null,
      pausedAt: Date.now(),
      pauseRunning: options.running === "pause",
    });
    this.dispatcher.pauseName(name, waitingForNameReason(pause));
    let runsAskedToPause = 0;
    if (options.running === "pause") {
      const control = {
        actor: options.actor ?? null,
        source: options.source ?? null,
        reason: taskNamePausedReason(name),
      };
      for await (const task of this.#tasks(name, "RUNNING")) {
        // A run that ended meanwhile cannot be paused any more: that is not an error here.
        if (
          await this.pauseTask(task.id, control).then(
            () => true,
            () => false,
          )
        )
          runsAskedToPause++;
      }
    }
    return { pause, runsAskedToPause };
  }

  /** Resumes the name: false when it was not paused (its tasks are let go all the same). */
  async resume(name: string, options: Omit<TaskTypePauseOptions, "running"> = {}): Promise<boolean> {
    const was = await this.store.resumeTaskType(name);
    this.dispatcher.resumeName(name);
    const reason = taskNamePausedReason(name);
    const control = { actor: options.actor ?? null, source: options.source ?? null, reason: null };
    for await (const task of this.#tasks(name, "PAUSED")) {
      if (task.statusReason !== reason) continue;
      await this.resumeTask(task.id, control).catch(() => undefined);
    }
    return was;
  }

  list(): Promise<TaskTypePause[]> {
    return this.store.listTaskTypePauses();
  }

  async *#tasks(name: string, status: "RUNNING" | "PAUSED"): AsyncGenerator<TaskRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.store.listTasks({ status, name, cursor, limit: PAGE });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
}
