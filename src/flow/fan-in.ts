/**
 * Fan-in: which ids `this.waitFor(ids)` may wait for, whether all of them have ended, and the
 * outcomes the parent gets. Pure: the caller looks the children up.
 *
 * Rules:
 * - `ids`: an array of at most MAX_WAIT_FOR_IDS (10,000) ids of tasks this task spawned (their
 *   parentId is this task). Waiting only for its own children keeps waits a tree: two tasks
 *   cannot wait for each other. An id given twice gets its outcome twice; `[]` resolves at once.
 * - A run calls `waitFor` again after it resumes (it restarts `run()` from its checkpoint), by
 *   which time a child may have ended and been deleted. So an id that names no task is the
 *   outcome `DELETED` when it was in this task's recorded wait (the ids of its earlier waitFor,
 *   which the engine stores when it suspends the parent), and an error otherwise (a typo, or a
 *   task that was never a child).
 * - All ended: every child FINISHED, FAILED or STOPPED, or deleted (only an ended task can be).
 *   Until then the parent stays suspended, with a reason naming a few of the children it waits
 *   for and their count. A child that is PAUSED has not ended: the parent waits for it.
 * - The outcomes come in the order of `ids`: FINISHED with its result, FAILED with its error
 *   (as stored: name, message, stack, retryable), STOPPED with its reason, DELETED alone.
 */
import type { TaskError } from "../task/errors.ts";
import type { ChildOutcome } from "../task/flow.ts";
import { isFinalStatus, type TaskStatus } from "../task/status.ts";
import { describeValue } from "./declaration-fields.ts";
import { namedIds } from "./id-list.ts";

export const MAX_WAIT_FOR_IDS = 10_000;

/** What fan-in reads of a child's row (a subset of TaskRecord). */
export interface ChildRecord {
  id: string;
  parentId: string | null;
  status: TaskStatus;
  statusReason: string | null;
  result: unknown;
  error: unknown;
}

export type WaitForCheck = { ok: true; ids: string[] } | { ok: false; message: string };

/**
 * Checks a `waitFor` call of task `parentId`. `find` looks a task up (null when none has the
 * id); `recorded` holds the ids of this task's earlier wait, whose deleted children are DELETED.
 */
export function checkWaitFor(
  ids: unknown,
  parentId: string,
  find: (id: string) => Pick<ChildRecord, "parentId"> | null,
  recorded: ReadonlySet<string> = new Set(),
): WaitForCheck {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
    return { ok: false, message: `waitFor takes an array of task ids, got ${describeValue(ids)}` };
  }
  if (ids.length > MAX_WAIT_FOR_IDS) {
    return { ok: false, message: `waitFor takes at most ${MAX_WAIT_FOR_IDS} ids, got ${ids.length}` };
  }
  const missing: string[] = [];
  const foreign: string[] = [];
  for (const id of new Set(ids as string[])) {
    const found = find(id);
    if (found === null) {
      if (!recorded.has(id)) missing.push(id);
    } else if (found.parentId !== parentId) {
      foreign.push(id);
    }
  }
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`no task has the id ${namedIds(missing)}`);
  if (foreign.length > 0) {
    problems.push(
      `${namedIds(foreign)} ${foreign.length === 1 ? "is not a child" : "are not children"} of this task (waitFor waits for tasks it spawned)`,
    );
  }
  if (problems.length > 0) return { ok: false, message: `waitFor: ${problems.join("; ")}` };
  return { ok: true, ids: [...(ids as string[])] };
}

export type FanInState =
  | { ended: false; waitingFor: string[]; reason: string }
  | { ended: true; outcomes: ChildOutcome[] };

/** A stored error as the TaskError it should be; anything else (an old row) described. */
function taskErrorOf(error: unknown): TaskError {
  if (typeof error === "object" && error !== null) {
    const { name, message, stack, retryable } = error as Record<string, unknown>;
    if (typeof name === "string" && typeof message === "string") {
      return {
        name,
        message,
        ...(typeof stack === "string" ? { stack } : {}),
        retryable: retryable !== false,
      };
    }
  }
  return {
    name: "Error",
    message: error === null || error === undefined ? "failed" : String(error),
    retryable: true,
  };
}

function outcomeOf(id: string, child: ChildRecord | null): ChildOutcome {
  if (child === null) return { id, status: "DELETED" };
  if (child.status === "FINISHED") return { id, status: "FINISHED", result: child.result };
  if (child.status === "FAILED") return { id, status: "FAILED", error: taskErrorOf(child.error) };
  return { id, status: "STOPPED", reason: child.statusReason };
}

/** The "waiting for …" reason of a parent whose children `waitingFor` have not ended. */
export function waitingForChildrenReason(waitingFor: readonly string[], total: number): string {
  if (total === 1) return `waiting for child ${waitingFor[0]}`;
  return `waiting for ${waitingFor.length} of ${total} children: ${namedIds(waitingFor)}`;
}

/**
 * Whether every child in `ids` (checked by `checkWaitFor`) has ended, and if so their outcomes
 * in the order of `ids`. `find` gives a child's row, null when it was deleted.
 */
export function collectFanIn(ids: readonly string[], find: (id: string) => ChildRecord | null): FanInState {
  const children = new Map<string, ChildRecord | null>();
  for (const id of ids) if (!children.has(id)) children.set(id, find(id));
  const waitingFor = [...children]
    .filter(([, child]) => child !== null && !isFinalStatus(child.status))
    .map(([id]) => id);
  if (waitingFor.length > 0) {
    return { ended: false, waitingFor, reason: waitingForChildrenReason(waitingFor, children.size) };
  }
  return { ended: true, outcomes: ids.map((id) => outcomeOf(id, children.get(id) ?? null)) };
}
