import { type ListTasksQuery, MAX_PAGE_SIZE, type Page, type TaskRecord } from "../../store/index.ts";
import {
  ACTIVE_STATUSES,
  FINAL_STATUSES,
  type RequestedAction,
  TASK_STATUSES,
  type TaskStatus,
} from "../../task/index.ts";
import { KilnError } from "../errors.ts";
import type { ControlOptions, ControlResult } from "../manager-options.ts";
import type { ControlAction } from "./lifecycle.ts";

export const BULK_ACTIONS = ["pause", "resume", "stop", "restart", "delete"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** Most tasks one bulk call acts on; a filter that matches more says where to go on. */
export const MAX_BULK_TASKS = 1_000;

/** Tasks acted on between two yields to the event loop, so requests and workers go on meanwhile. */
const TASKS_PER_TURN = 50;

export interface BulkFilter {
  status?: TaskStatus | undefined;
  name?: string | undefined;
  tag?: string | undefined;
}

/**
 * Which tasks: these ids (at most MAX_BULK_TASKS), or those a filter matches, newest first,
 * after `cursor` (the previous call's `nextCursor`).
 */
export type BulkTarget = { ids: readonly string[] } | { filter: BulkFilter; cursor?: string | undefined };

export type BulkItem =
  | { id: string; ok: true; status?: TaskStatus; requestedAction?: RequestedAction | null }
  | { id: string; ok: false; error: { code: string; message: string; httpStatus: number } };

export interface BulkResult {
  action: BulkAction;
  /** One per task, in the order acted on. */
  results: BulkItem[];
  succeeded: number;
  failed: number;
  /** The filter matched more tasks than one call acts on. */
  truncated: boolean;
  /** With `truncated`: the cursor that goes on with the tasks after these. */
  nextCursor: string | null;
}

/**
 * The statuses a filter without one picks for each action: those the action can apply to, so
 * "delete everything named x" deletes the ended ones and leaves the live ones alone. Undefined:
 * every status (a restart applies to any task).
 */
const APPLIES_TO: Record<BulkAction, readonly TaskStatus[] | undefined> = {
  pause: ["PENDING", "RUNNING"],
  resume: ["PAUSED"],
  stop: ACTIVE_STATUSES,
  restart: undefined,
  delete: FINAL_STATUSES,
};

export interface BulkEngine {
  list(query: ListTasksQuery): Promise<Page<TaskRecord, string>>;
  control(action: ControlAction, id: string, options: ControlOptions): Promise<ControlResult>;
  remove(id: string): Promise<void>;
}

/** Up to `want` ids the query matches, newest first, read a page at a time. */
async function matchingIds(engine: BulkEngine, query: ListTasksQuery, want: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor = query.cursor;
  while (ids.length < want) {
    const page = await engine.list({ ...query, cursor, limit: Math.min(MAX_PAGE_SIZE, want - ids.length) });
    for (const task of page.items) ids.push(task.id);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return ids;
}

/** The ids a filter picks for an action, newest first: at most MAX_BULK_TASKS, and whether there are more. */
async function selected(
  engine: BulkEngine,
  action: BulkAction,
  filter: BulkFilter,
  cursor: string | undefined,
): Promise<{ ids: string[]; truncated: boolean }> {
  const want = MAX_BULK_TASKS + 1;
  const base = { name: filter.name, tag: filter.tag, cursor };
  const statuses = filter.status ? [filter.status] : APPLIES_TO[action];
  const ids =
    statuses === undefined || statuses.length === TASK_STATUSES.length
      ? await matchingIds(engine, base, want)
      : // One keyset read per status on its (status, id) index, merged newest first.
        (await Promise.all(statuses.map((status) => matchingIds(engine, { ...base, status }, want))))
          .flat()
          .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
          .slice(0, want);
  return { ids: ids.slice(0, MAX_BULK_TASKS), truncated: ids.length > MAX_BULK_TASKS };
}

async function actOn(
  engine: BulkEngine,
  action: BulkAction,
  id: string,
  options: ControlOptions,
): Promise<BulkItem> {
  try {
    if (action === "delete") {
      await engine.remove(id);
      return { id, ok: true };
    }
    const { task } = await engine.control(action, id, options);
    return { id, ok: true, status: task.status, requestedAction: task.requestedAction };
  } catch (error) {
    // A refusal of one task (409, 404, 503) is its result; anything else is kiln's own fault.
    if (!(error instanceof KilnError) || error.code === "internal") throw error;
    return {
      id,
      ok: false,
      error: { code: error.code, message: error.message, httpStatus: error.httpStatus },
    };
  }
}

/**
 * One action on many tasks, each decided and written on its own exactly as the single-task
 * call would be: an illegal one is refused in its result and the others go on.
 */
export async function runBulk(
  engine: BulkEngine,
  action: BulkAction,
  target: BulkTarget,
  options: ControlOptions,
): Promise<BulkResult> {
  let ids: string[];
  let truncated = false;
  if ("ids" in target) {
    ids = [...new Set(target.ids)];
    if (ids.length > MAX_BULK_TASKS) {
      throw new KilnError(
        "too_many_tasks",
        422,
        `a bulk call acts on at most ${MAX_BULK_TASKS} tasks; ${ids.length} ids were given`,
        { max: MAX_BULK_TASKS },
      );
    }
  } else {
    ({ ids, truncated } = await selected(engine, action, target.filter, target.cursor));
  }
  const results: BulkItem[] = [];
  for (const [i, id] of ids.entries()) {
    if (i > 0 && i % TASKS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    results.push(await actOn(engine, action, id, options));
  }
  const succeeded = results.filter((item) => item.ok).length;
  return {
    action,
    results,
    succeeded,
    failed: results.length - succeeded,
    truncated,
    nextCursor: truncated ? (ids.at(-1) ?? null) : null,
  };
}
