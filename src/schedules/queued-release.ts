import type { GuardedStore } from "../engine/commit/storage-guard.ts";
import type { ManagerEvent } from "../engine/events.ts";
import type { Logger } from "../engine/logger.ts";
import type { ControlOptions, ControlResult } from "../engine/manager-options.ts";
import { isFinalStatus } from "../task/index.ts";

export interface QueuedReleaseParts {
  guard: GuardedStore;
  logger: Logger;
  /** Resumes a task, as the manager's `resume`. */
  resume(id: string, options: ControlOptions): Promise<ControlResult>;
}

/**
 * Overlap "queue": a fire whose previous task still ran made its task PAUSED, waiting for that
 * one. This resumes it once the previous task ends, or, at start-up, once it is found ended or
 * gone. A queued task the operator already resumed or stopped is left as it is.
 */
export class QueuedRelease {
  constructor(private readonly parts: QueuedReleaseParts) {}

  /** A committed transition: a scheduled task that ended releases what queued behind it. */
  observe(event: ManagerEvent): void {
    if (event.type !== "transition" || event.task.scheduleId === null || !isFinalStatus(event.to)) return;
    const ended = event.task.id;
    this.release(ended).catch((error: unknown) =>
      this.parts.logger.error("releasing a queued scheduled task failed", {
        after: ended,
        error: String(error),
      }),
    );
  }

  /** Resumes the tasks queued behind `ended`, or with none given, behind any task that has ended or is gone. */
  async release(ended: string | undefined): Promise<void> {
    for (const fire of await this.parts.guard.listQueuedFires()) {
      if (fire.taskId === null || fire.waitsFor === null) continue;
      if (ended !== undefined) {
        if (fire.waitsFor !== ended) continue;
      } else {
        const previous = await this.parts.guard.getTask(fire.waitsFor);
        if (previous && !isFinalStatus(previous.status)) continue;
      }
      try {
        await this.parts.resume(fire.taskId, {
          actor: "kiln",
          reason: `the previous task ${fire.waitsFor} of schedule ${fire.scheduleId} ended`,
        });
      } catch (error) {
        this.parts.logger.warn(`queued task ${fire.taskId} was not resumed`, { error: String(error) });
      }
    }
  }
}
