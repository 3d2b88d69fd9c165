import type { DeletedTask } from "../store/store.ts";
import { isTaskStatus } from "../task/index.ts";

/** A payload's budget: PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
const PAYLOAD_BYTES = 7_000;

/** What a node tells the others after a turn. */
export interface NodeNews {
  /** Tasks may be ready to claim (a task became PENDING, or a run ended and freed a slot). */
  ready: boolean;
  /** Tasks with new history rows, new progress, new log lines. */
  history: string[];
  progress: string[];
  logs: string[];
  /** Deleted tasks: id, status, name (their rows are gone, so the payload carries them). */
  deleted: Array<[string, string, string]>;
}

/** The news as few payloads as fit: `{ n, r, t, p, l, d }`, each under the budget. */
export function newsPayloads(node: string, news: NodeNews): string[] {
  const payloads: string[] = [];
  let current: Record<string, unknown> = news.ready ? { n: node, r: 1 } : { n: node };
  let size = JSON.stringify(current).length;
  let empty = !news.ready;
  const add = (kind: string, entry: unknown) => {
    const bytes = Buffer.byteLength(JSON.stringify(entry)) + 8;
    if (size + bytes > PAYLOAD_BYTES && !empty) {
      payloads.push(JSON.stringify(current));
      current = { n: node };
      size = JSON.stringify(current).length;
    }
    const list = (current[kind] as unknown[] | undefined) ?? [];
    list.push(entry);
    current[kind] = list;
    size += bytes;
    empty = false;
  };
  for (const id of news.history) add("t", id);
  for (const id of news.progress) add("p", id);
  for (const id of news.logs) add("l", id);
  for (const task of news.deleted) add("d", task);
  if (!empty) payloads.push(JSON.stringify(current));
  return payloads;
}

/** The deleted tasks a notification names, as far as they are well formed. */
export function deletedTasks(entries: unknown[]): DeletedTask[] {
  const tasks: DeletedTask[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue;
    const [id, status, name] = entry as unknown[];
    if (typeof id === "string" && isTaskStatus(status) && typeof name === "string")
      tasks.push({ id, status, name });
  }
  return tasks;
}
