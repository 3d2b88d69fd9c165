import {
  checkDependencies,
  type DependencyFailurePolicy,
  type FlowFieldError,
  parseDependencyFailurePolicy,
  parseDependsOn,
} from "../../flow/index.ts";
import { KilnError } from "../errors.ts";
import type { CreateOptions } from "../manager-options.ts";

/** A create's `dependsOn` and `onDependencyFailure`, checked. */
export interface CheckedDependencies {
  ids: string[];
  policy: DependencyFailurePolicy;
}

/** A 422 listing every problem of a create's dependencies, each with the field it is about. */
function dependencyError(errors: readonly FlowFieldError[]): KilnError {
  const first = errors[0];
  const message = first ? `invalid ${first.field}: ${first.field} ${first.message}` : "invalid dependsOn";
  return new KilnError("validation", 422, message, {
    in: "options",
    issues: errors.map((error) => ({ path: error.field, message: error.message })),
  });
}

/** The create's dependencies, or null when it names none; a 422 for a value of the wrong shape. */
export function checkDependencyOptions(options: CreateOptions): CheckedDependencies | null {
  const ids = parseDependsOn(options.dependsOn);
  const policy = parseDependencyFailurePolicy(options.onDependencyFailure);
  const errors = [...(ids.ok ? [] : ids.errors), ...(policy.ok ? [] : policy.errors)];
  if (errors.length > 0) throw dependencyError(errors);
  if (!ids.ok || !policy.ok || ids.ids.length === 0) return null;
  return { ids: ids.ids, policy: policy.policy };
}

/** A 422 when a dependency names no task (a new task cannot be in a cycle: it names older ones). */
export function refuseUnknownDependencies(
  id: string,
  ids: readonly string[],
  existing: ReadonlySet<string>,
): void {
  const errors = checkDependencies([{ id, dependsOn: ids }], (known) => existing.has(known));
  if (errors.length > 0) throw dependencyError(errors);
}
