import { type ChildRecord, checkWaitFor, collectFanIn } from "../../flow/index.ts";
import type { TaskRecord } from "../../store/index.ts";
import type { ToWorker } from "../../worker/protocol.ts";
import type { GuardedStore } from "../commit/storage-guard.ts";
import type { Logger } from "../logger.ts";
import type { LiveRun } from "./runs.ts";
import type { CheckedMessage } from "./worker-message.ts";

export type WaitCall = Extract<CheckedMessage, { type: "wait-for" }>;
export type WaitAnswer = Extract<ToWorker, { type: "wait-over" | "wait-refused" | "wait-suspend" }>;

/** Children read at once; a wait may name 10,000, and a networked store answers each alone. */
const READ_BATCH = 100;

async function readChildren(
  store: Pick<GuardedStore, "getTask">,
  ids: readonly string[],
): Promise<Map<string, TaskRecord | null>> {
  const unique = [...new Set(ids)];
  const found = new Map<string, TaskRecord | null>();
  for (let at = 0; at < unique.length; at += READ_BATCH) {
    const batch = unique.slice(at, at + READ_BATCH);
    const rows = await Promise.all(batch.map((id) => store.getTask(id)));
    for (const [index, id] of batch.entries()) found.set(id, rows[index] ?? null);
  }
  return found;
}

/**
 * What a task hears back for its `this.waitFor(ids)`: the outcomes when every child has ended,
 * why the ids are refused (`checkWaitFor`), or that its run must suspend, in which case the ids
 * are kept on the run (`waitingFor`) for the settlement of its end to record. Never rejects.
 *
 * The children are read outside any transaction: one that ends after this read is seen by the
 * dependency watch, which examines the suspended task once its wait is committed.
 */
export async function answerWaitFor(
  call: WaitCall,
  run: LiveRun,
  store: Pick<GuardedStore, "getTask" | "awaitedIds">,
  logger: Logger,
): Promise<WaitAnswer> {
  const { taskId, callId } = call;
  try {
    const [children, recorded] = await Promise.all([
      readChildren(store, call.ids),
      store.awaitedIds(taskId, "children"),
    ]);
    const find = (id: string): ChildRecord | null => children.get(id) ?? null;
    const checked = checkWaitFor(call.ids, taskId, find, new Set(recorded));
    if (!checked.ok)
      return { type: "wait-refused", taskId, callId, message: checked.message, retryable: false };
    const state = collectFanIn(checked.ids, find);
    if (state.ended) return { type: "wait-over", taskId, callId, outcomes: state.outcomes };
    run.waitingFor = [...new Set(checked.ids)];
    return { type: "wait-suspend", taskId, callId };
  } catch (error) {
    logger.warn(`reading the children task ${taskId} waits for failed`, { error: String(error) });
    return {
      type: "wait-refused",
      taskId,
      callId,
      message: `waitFor could not read the children: ${error instanceof Error ? error.message : String(error)}`,
      retryable: true,
    };
  }
}
