import type { TaskRecord } from "../../store/index.ts";
import type { Unit } from "../commit/unit.ts";
import { ENGINE, type Transitions } from "./transitions.ts";

const REASON = "its start was written, but the answer was lost with the database connection; started again";

/**
 * Starts whose commit failed on a storage fault. On a networked store a COMMIT can reach the
 * database while its answer is lost with the connection: the engine takes the start as failed and
 * queues the task again, while the row already says RUNNING. The next start's guarded write then
 * finds RUNNING instead of PENDING; for a task in this set, that row belongs to no run, because one
 * kiln owns the database and this one has no live run for it, so the start is made again after a
 * history row saying so. A task not in this set is left alone: a RUNNING row then means a run.
 */
export class UnansweredStarts {
  readonly #ids = new Set<string>();

  /** The start of `id` failed on a storage fault; it may have been written all the same. */
  add(id: string): void {
    this.#ids.add(id);
  }

  /**
   * For a start whose guarded write found the task not PENDING: when the task is one of these and
   * its row is RUNNING, moves it back to PENDING and starts it again, in the same transaction.
   */
  async startAgain(transitions: Transitions, u: Unit, id: string): Promise<TaskRecord | undefined> {
    if (!this.#ids.delete(id)) return undefined;
    const row = await u.tx.getTask(id);
    if (row?.status !== "RUNNING") return undefined;
    if (!(await transitions.requeued(u, id, REASON, ENGINE))) return undefined;
    return transitions.running(u, id, null, "start");
  }

  /** The start of `id` was committed and answered: nothing is uncertain about it any more. */
  settled(id: string): void {
    this.#ids.delete(id);
  }
}
