// What each bulk button asks the server for, and the words the confirmation and the outcome use.
import { FINAL_STATUSES } from "../../task/status.ts";
import type { Filters } from "./task-page.ts";
import type { BulkAction, BulkBody, BulkFilter, BulkResult, TaskStatus } from "./types.ts";

/** One bulk request, as the confirmation dialog describes it before it is sent. */
export interface BulkPlan {
  body: BulkBody;
  title: string;
  /** What will happen, in a sentence. */
  description: string;
  /** The label of the button that sends it. */
  confirm: string;
}

const ENDED: readonly TaskStatus[] = FINAL_STATUSES;

const VERBS: Record<BulkAction, { verb: string; past: string }> = {
  pause: { verb: "Pause", past: "Paused" },
  resume: { verb: "Resume", past: "Resumed" },
  stop: { verb: "Stop", past: "Stopped" },
  restart: { verb: "Restart", past: "Restarted" },
  delete: { verb: "Delete", past: "Deleted" },
};

const plural = (count: number, one: string) =>
  `${count.toLocaleString("en-US")} ${one}${count === 1 ? "" : "s"}`;

/** The name and tag of the table's filters, as the bulk filter takes them. */
function narrowed(filters: Filters, status?: TaskStatus): BulkFilter {
  return {
    ...(status ? { status } : {}),
    ...(filters.name ? { name: filters.name } : {}),
    ...(filters.tag ? { tag: filters.tag } : {}),
  };
}

/** "named "x" with the tag "y"", or nothing when neither filter is set. */
function scope(filters: Filters): string {
  const parts = [
    filters.name && `named "${filters.name}"`,
    filters.tag && `with the tag "${filters.tag}"`,
  ].filter(Boolean);
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

const LIMIT_NOTE = "At most 1,000 tasks per click, newest first.";

export function retryFailedPlan(filters: Filters): BulkPlan {
  return {
    body: { action: "restart", filter: narrowed(filters, "FAILED") },
    title: "Retry all FAILED tasks",
    description: `Restart every FAILED task${scope(filters)} as a new attempt, from the top. ${LIMIT_NOTE}`,
    confirm: "Retry them",
  };
}

export function stopRunningPlan(filters: Filters): BulkPlan {
  return {
    body: { action: "stop", filter: narrowed(filters, "RUNNING") },
    title: "Stop all running tasks",
    description: `Stop every RUNNING task${scope(filters)}; each stops at its next checkpoint. ${LIMIT_NOTE}`,
    confirm: "Stop them",
  };
}

/** Undefined when the table shows a live status: no ended task can match. */
export function deleteEndedPlan(filters: Filters): BulkPlan | undefined {
  const status = filters.status || undefined;
  if (status && !ENDED.includes(status)) return undefined;
  const which = status ?? "FINISHED, FAILED and STOPPED";
  return {
    body: { action: "delete", filter: narrowed(filters, status) },
    title: "Delete ended tasks",
    description: `Delete every ${which} task${scope(filters)} with its history and logs. This cannot be undone. ${LIMIT_NOTE}`,
    confirm: "Delete them",
  };
}

export function selectionPlan(action: BulkAction, ids: readonly string[]): BulkPlan {
  const { verb } = VERBS[action];
  const tasks = plural(ids.length, "selected task");
  const note =
    action === "delete"
      ? " with their history and logs. This cannot be undone."
      : ". A task this does not apply to is left as it is.";
  return {
    body: { action, ids: [...ids] },
    title: `${verb} ${tasks}`,
    description: `${verb} the ${tasks}${note}`,
    confirm: `${verb} ${plural(ids.length, "task")}`,
  };
}

/**
 * What a bulk call did, in a sentence: "Stopped 1 task; 2 running tasks stop at their next
 * checkpoint; 1 refused (cannot stop a FINISHED task: it has already ended)."
 */
export function outcomeText(result: BulkResult): string {
  if (result.results.length === 0) return "No task matched.";
  const { past } = VERBS[result.action];
  const asked = result.results.filter((item) => item.ok && item.requestedAction).length;
  const done = result.succeeded - asked;
  const parts: string[] = [];
  if (done > 0 || asked === 0) parts.push(`${past} ${plural(done, "task")}`);
  if (asked > 0) {
    parts.push(
      `${plural(asked, "running task")} ${result.action} at ${asked === 1 ? "its" : "their"} next checkpoint`,
    );
  }
  const refusal = result.results.find((item) => !item.ok);
  if (refusal && !refusal.ok) {
    const others = result.failed > 1 ? ", …" : "";
    parts.push(`${result.failed.toLocaleString("en-US")} refused (${refusal.error.message}${others})`);
  }
  const sentence = parts.join("; ");
  return result.truncated ? `${sentence}. More tasks match: go on for the next 1,000.` : `${sentence}.`;
}
