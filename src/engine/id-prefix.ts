import type { TaskRecord, TaskStore } from "../store/index.ts";
import { AmbiguousIdError, TaskNotFoundError } from "./errors.ts";

/**
 * Shortest prefix looked up. Ids are UUIDv7, so their first characters are the creation time:
 * six of them narrow it to a window of about 4.6 hours.
 */
export const MIN_ID_PREFIX = 6;

/** How many ids an ambiguous prefix counts before it says "more than". */
const MAX_COUNTED = 1_000;

/**
 * The task with this id, or else the one task whose id starts with it (at least
 * MIN_ID_PREFIX characters). None is `TaskNotFoundError`; several are `AmbiguousIdError`.
 */
export async function findByIdOrPrefix(
  store: Pick<TaskStore, "getTask" | "idsWithPrefix">,
  text: string,
): Promise<TaskRecord> {
  const exact = await store.getTask(text);
  return exact ?? findByPrefix(store, text);
}

/**
 * The one task whose id starts with `text` (at least MIN_ID_PREFIX characters), for a caller
 * that already knows no task has `text` as its whole id.
 */
export async function findByPrefix(
  store: Pick<TaskStore, "getTask" | "idsWithPrefix">,
  text: string,
): Promise<TaskRecord> {
  if (text.length < MIN_ID_PREFIX) throw new TaskNotFoundError(text);
  const [first, second] = await store.idsWithPrefix(text, 2);
  if (first === undefined) throw new TaskNotFoundError(text);
  if (second !== undefined) {
    const counted = (await store.idsWithPrefix(text, MAX_COUNTED + 1)).length;
    throw new AmbiguousIdError(text, counted, counted > MAX_COUNTED);
  }
  const task = await store.getTask(first);
  // Deleted between the two reads.
  if (!task) throw new TaskNotFoundError(text);
  return task;
}
