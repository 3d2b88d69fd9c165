import type { TaskRecord } from "../store/index.ts";
import type { TaskManager } from "./manager.ts";
import type { ControlOptions, ControlResult } from "./manager-options.ts";

/**
 * One task with its lifecycle methods: `start()`, `pause()`, `stop()`, `restart()` on one id.
 * It holds no state of its own; every call goes through the manager.
 */
export class TaskHandle {
  constructor(
    private readonly manager: TaskManager,
    readonly id: string,
  ) {}

  /** The task's current record. */
  get(): Promise<TaskRecord> {
    return this.manager.require(this.id);
  }

  /** Lets a PAUSED task (including one created with `paused: true`) run again. */
  start(options?: ControlOptions): Promise<ControlResult> {
    return this.manager.resume(this.id, options);
  }

  pause(options?: ControlOptions): Promise<ControlResult> {
    return this.manager.pause(this.id, options);
  }

  resume(options?: ControlOptions): Promise<ControlResult> {
    return this.manager.resume(this.id, options);
  }

  stop(options?: ControlOptions): Promise<ControlResult> {
    return this.manager.stop(this.id, options);
  }

  restart(options?: ControlOptions): Promise<ControlResult> {
    return this.manager.restart(this.id, options);
  }

  /** Resolves once the task is in one of `statuses`. */
  waitFor(statuses: readonly TaskRecord["status"][], timeoutMs?: number): Promise<TaskRecord> {
    return this.manager.waitFor(this.id, (task) => statuses.includes(task.status), timeoutMs);
  }
}
