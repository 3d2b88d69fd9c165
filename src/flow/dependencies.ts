/**
 * Dependencies between tasks: `dependsOn: [ids]` checked at submit time, and what a waiting task
 * does given its dependencies' statuses. Pure: the caller looks the tasks up.
 *
 * Submit-time rules (all problems reported together, each as `{ field, message }`):
 * - `dependsOn`: an array of at most MAX_DEPENDENCIES (1,000) task ids of 1 to 200 characters; an
 *   id given twice is an error naming it (it is a mistake in the caller's list, not a wish).
 * - Every id names an existing task (`known`) or a task of the same submission; unknown ids are
 *   one error naming a few of them and their count.
 * - No cycle. An existing task's dependencies were fixed when it was created and can only name
 *   tasks older than it, so a cycle can only run through tasks of one submission that name each
 *   other (or a task naming itself): those are found here, each reported with its path.
 * - `onDependencyFailure`: "fail" (default), "stop" or "run".
 *
 * Decision rules, for a PENDING task with dependencies (`decideDependencies`):
 * - FINISHED is done; PENDING, RUNNING and PAUSED are not done yet; FAILED and STOPPED did not
 *   finish; a dependency that no longer exists (deleted, which only an ended task can be, or
 *   removed by retention) did not finish either: its outcome is unknown, so it is not taken as
 *   a success.
 * - With "fail" or "stop", the first dependency that did not finish decides at once: the task
 *   fails (or is stopped) with a reason naming it, without waiting for the others.
 * - With "run", a dependency that did not finish counts as ended: the task runs once every
 *   dependency has ended, and the reason says which did not finish.
 * - Otherwise it waits, with a reason naming a few of the ids it waits for and their count.
 * - A decision is final: a dependency restarted after its dependent failed does not revive it
 *   (restarting the dependent decides again).
 */
import type { TaskStatus } from "../task/status.ts";
import { describeValue, type FlowFieldError } from "./declaration-fields.ts";
import { namedIds } from "./id-list.ts";

export const MAX_DEPENDENCIES = 1_000;
export const MAX_TASK_ID_LENGTH = 200;
/** Cycles reported in one answer; one is enough to fix, a few show whether there are more. */
const MAX_CYCLES_REPORTED = 5;

export const DEPENDENCY_FAILURE_POLICIES = ["fail", "stop", "run"] as const;
export type DependencyFailurePolicy = (typeof DEPENDENCY_FAILURE_POLICIES)[number];
export const DEFAULT_DEPENDENCY_FAILURE_POLICY: DependencyFailurePolicy = "fail";

export type DependsOnCheck = { ok: true; ids: string[] } | { ok: false; errors: FlowFieldError[] };

/** Checks the shape of a `dependsOn` value: ids, count, repeats. `undefined` is none. */
export function parseDependsOn(value: unknown, field = "dependsOn"): DependsOnCheck {
  if (value === undefined || value === null) return { ok: true, ids: [] };
  if (!Array.isArray(value)) {
    return {
      ok: false,
      errors: [{ field, message: `must be an array of task ids, got ${describeValue(value)}` }],
    };
  }
  if (value.length > MAX_DEPENDENCIES) {
    return {
      ok: false,
      errors: [{ field, message: `must hold at most ${MAX_DEPENDENCIES} task ids, got ${value.length}` }],
    };
  }
  const errors: FlowFieldError[] = [];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const [index, id] of (value as unknown[]).entries()) {
    if (typeof id !== "string" || id.length < 1 || id.length > MAX_TASK_ID_LENGTH) {
      errors.push({
        field: `${field}[${index}]`,
        message: `must be a task id of 1 to ${MAX_TASK_ID_LENGTH} characters, got ${describeValue(id)}`,
      });
      continue;
    }
    if (seen.has(id)) repeated.add(id);
    seen.add(id);
  }
  if (repeated.size > 0) {
    errors.push({ field, message: `names ${namedIds([...repeated])} more than once` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, ids: [...seen] };
}

/** Checks an `onDependencyFailure` value; `undefined` is the default, "fail". */
export function parseDependencyFailurePolicy(
  value: unknown,
  field = "onDependencyFailure",
): { ok: true; policy: DependencyFailurePolicy } | { ok: false; errors: FlowFieldError[] } {
  if (value === undefined) return { ok: true, policy: DEFAULT_DEPENDENCY_FAILURE_POLICY };
  if ((DEPENDENCY_FAILURE_POLICIES as readonly unknown[]).includes(value)) {
    return { ok: true, policy: value as DependencyFailurePolicy };
  }
  return {
    ok: false,
    errors: [
      {
        field,
        message: `must be one of ${DEPENDENCY_FAILURE_POLICIES.join(", ")}, got ${describeValue(value)}`,
      },
    ],
  };
}

/** One task of a submission: its id (assigned before the check) and its checked dependencies. */
export interface SubmittedTask {
  id: string;
  dependsOn: readonly string[];
}

/** The ids a submission names that are not its own tasks: those the caller must look up. */
export function externalDependencyIds(batch: readonly SubmittedTask[]): string[] {
  const own = new Set(batch.map((task) => task.id));
  const external = new Set<string>();
  for (const task of batch) for (const id of task.dependsOn) if (!own.has(id)) external.add(id);
  return [...external];
}

/** The cycles among a submission's tasks, each as a path `[a, b, …, a]`, at most a few. */
export function dependencyCycles(batch: readonly SubmittedTask[]): string[][] {
  const edges = new Map(batch.map((task) => [task.id, task.dependsOn] as const));
  const state = new Map<string, "open" | "done">();
  const cycles: string[][] = [];
  for (const root of edges.keys()) {
    if (state.has(root)) continue;
    // Depth-first without recursion: a chain of 1,000 tasks must not overflow the stack.
    const path: string[] = [root];
    const next: number[] = [0];
    state.set(root, "open");
    while (path.length > 0) {
      const at = path.at(-1) as string;
      const targets = edges.get(at) ?? [];
      const index = next[next.length - 1] as number;
      if (index >= targets.length) {
        state.set(at, "done");
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = index + 1;
      const target = targets[index] as string;
      if (!edges.has(target)) continue;
      const seen = state.get(target);
      if (seen === "open") {
        if (cycles.length < MAX_CYCLES_REPORTED) cycles.push([...path.slice(path.indexOf(target)), target]);
      } else if (seen === undefined) {
        state.set(target, "open");
        path.push(target);
        next.push(0);
      }
    }
  }
  return cycles;
}

/**
 * Checks a submission's dependencies against the tasks that exist (`known`, for the ids of
 * `externalDependencyIds`) and among themselves. `fieldOf(i)` names where task i's list is in
 * the body (`dependsOn` for a single task, `tasks[3].dependsOn` in a batch).
 */
export function checkDependencies(
  batch: readonly SubmittedTask[],
  known: (id: string) => boolean,
  fieldOf: (index: number) => string = (index) =>
    batch.length === 1 ? "dependsOn" : `tasks[${index}].dependsOn`,
): FlowFieldError[] {
  const errors: FlowFieldError[] = [];
  const own = new Set(batch.map((task) => task.id));
  for (const [index, task] of batch.entries()) {
    const unknown = task.dependsOn.filter((id) => !own.has(id) && !known(id));
    if (unknown.length > 0) {
      errors.push({
        field: fieldOf(index),
        message: `${unknown.length === 1 ? "names a task that does not exist" : `names ${unknown.length} tasks that do not exist`}: ${namedIds(unknown)}`,
      });
    }
  }
  const fieldById = new Map(batch.map((task, index) => [task.id, fieldOf(index)] as const));
  for (const cycle of dependencyCycles(batch)) {
    const message =
      cycle.length === 2
        ? `task ${cycle[0]} depends on itself`
        : `is part of a cycle: ${cycle.join(" → ")} (each would wait for the other forever)`;
    errors.push({ field: fieldById.get(cycle[0] as string) ?? "dependsOn", message });
  }
  return errors;
}

/** A dependency as the caller finds it; `status: null` when it no longer exists. */
export interface DependencyState {
  id: string;
  status: TaskStatus | null;
}

export type DependencyDecision =
  | { action: "wait"; waitingFor: string[]; reason: string }
  /** `reason` says which dependencies did not finish when "run" runs anyway; null when all finished. */
  | { action: "run"; reason: string | null }
  | { action: "fail" | "stop"; failed: DependencyState[]; reason: string };

const UNFINISHED: readonly (TaskStatus | null)[] = ["FAILED", "STOPPED", null];

function outcomeText(dependency: DependencyState): string {
  return dependency.status === null
    ? `${dependency.id} no longer exists`
    : `${dependency.id} ${dependency.status}`;
}

function notFinishedText(failed: readonly DependencyState[]): string {
  const shown = namedIds(failed.map(outcomeText));
  return failed.length === 1
    ? `dependency ${shown}`
    : `${failed.length} dependencies did not finish: ${shown}`;
}

/** The "waiting for …" reason of a task whose dependencies `waitingFor` have not ended. */
export function waitingReason(waitingFor: readonly string[], total: number): string {
  if (total === 1) return `waiting for dependency ${waitingFor[0]}`;
  return `waiting for ${waitingFor.length} of ${total} dependencies: ${namedIds(waitingFor)}`;
}

/** What a task waiting on `dependencies` does now (see the file's comment). */
export function decideDependencies(
  dependencies: readonly DependencyState[],
  policy: DependencyFailurePolicy = DEFAULT_DEPENDENCY_FAILURE_POLICY,
): DependencyDecision {
  const failed = dependencies.filter((dependency) => UNFINISHED.includes(dependency.status));
  if (failed.length > 0 && policy !== "run") {
    const verb = policy === "fail" ? "failed" : "stopped";
    return {
      action: policy,
      failed,
      reason: `${notFinishedText(failed)}; ${verb} (onDependencyFailure "${policy}")`,
    };
  }
  const waitingFor = dependencies
    .filter((dependency) => dependency.status !== null && !UNFINISHED.includes(dependency.status))
    .filter((dependency) => dependency.status !== "FINISHED")
    .map((dependency) => dependency.id);
  if (waitingFor.length > 0) {
    return { action: "wait", waitingFor, reason: waitingReason(waitingFor, dependencies.length) };
  }
  return {
    action: "run",
    reason: failed.length > 0 ? `${notFinishedText(failed)}; runs anyway (onDependencyFailure "run")` : null,
  };
}
