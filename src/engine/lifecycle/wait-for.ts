import type { TaskRecord, TaskStore } from "../../store/index.ts";
import { KilnError, TaskNotFoundError } from "../errors.ts";
import type { EventHub } from "../events.ts";

/**
 * Resolves with the task once `until` holds for it (checked now and after each of its
 * transitions, requests and progress reports); rejects after `timeoutMs`. It listens before it
 * reads, so a transition committed during the read is not missed.
 */
export function waitForTask(
  hub: EventHub,
  store: Pick<TaskStore, "getTask">,
  id: string,
  until: (task: TaskRecord) => boolean,
  timeoutMs: number,
): Promise<TaskRecord> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      finish();
    };
    const check = (task: TaskRecord | undefined) => {
      if (task && until(task)) settle(() => resolve(task));
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new KilnError(
              "wait_timeout",
              408,
              `task ${id} did not reach the expected state within ${timeoutMs} ms`,
            ),
          ),
        ),
      timeoutMs,
    );
    const unsubscribe = hub.subscribe(
      (event) => {
        if (event.type === "transition" || event.type === "request") {
          if (event.task.id === id) check(event.task);
        } else if (event.type === "progress" && event.taskId === id) {
          store.getTask(id).then(check, () => undefined);
        }
      },
      { clusterWide: true },
    );
    store.getTask(id).then(
      (task) => {
        if (!task) settle(() => reject(new TaskNotFoundError(id)));
        else check(task);
      },
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
