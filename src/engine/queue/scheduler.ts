import { Heap } from "./heap.ts";
import { ReadyQueue } from "./ready-queue.ts";

/** A PENDING task waiting for a worker. */
export interface QueueEntry {
  id: string;
  name: string;
  priority: number;
  /** Epoch ms before which it must not start; 0 when it may start now. */
  runAt: number;
}

interface Queued {
  entry: QueueEntry;
  /** The entry's, here for the ready queue's order. */
  priority: number;
  id: string;
  /** Cleared when the task leaves the queue other than by being picked (pause, stop, …). */
  live: boolean;
}

// Higher priority first, then older tasks (ids are UUIDv7, so they sort by creation time).
const byPriority = (a: Queued, b: Queued) =>
  a.entry.priority !== b.entry.priority ? a.entry.priority > b.entry.priority : a.entry.id < b.entry.id;
const byRunAt = (a: Queued, b: Queued) =>
  a.entry.runAt !== b.entry.runAt ? a.entry.runAt < b.entry.runAt : byPriority(a, b);

/**
 * The in-memory queue of PENDING tasks: one ready queue per task name (so a name at its
 * concurrency limit does not block the others) and one heap of delayed tasks.
 */
export class Scheduler {
  readonly #ready = new Map<string, ReadyQueue<Queued>>();
  readonly #delayed = new Heap<Queued>(byRunAt);
  readonly #queued = new Map<string, Queued>();

  get size(): number {
    return this.#queued.size;
  }

  has(id: string): boolean {
    return this.#queued.has(id);
  }

  enqueue(entry: QueueEntry, now = Date.now()): void {
    this.remove(entry.id);
    const queued: Queued = { entry, priority: entry.priority, id: entry.id, live: true };
    this.#queued.set(entry.id, queued);
    if (entry.runAt > now) this.#delayed.push(queued);
    else this.#readyQueue(entry.name).push(queued);
  }

  remove(id: string): boolean {
    const queued = this.#queued.get(id);
    if (!queued) return false;
    queued.live = false;
    this.#queued.delete(id);
    return true;
  }

  /** Takes the best task that may start now among the names `canRun` allows. */
  next(canRun: (name: string) => boolean, now = Date.now()): QueueEntry | undefined {
    this.#promoteDue(now);
    let best: Queued | undefined;
    let bestQueue: ReadyQueue<Queued> | undefined;
    for (const [name, queue] of this.#ready) {
      const head = queue.peek();
      if (!head) {
        this.#ready.delete(name);
        continue;
      }
      if (!canRun(name)) continue;
      if (!best || byPriority(head, best)) {
        best = head;
        bestQueue = queue;
      }
    }
    if (!best || !bestQueue) return undefined;
    bestQueue.pop();
    this.#queued.delete(best.entry.id);
    return best.entry;
  }

  /** When the earliest delayed task becomes due, or undefined when none waits. */
  nextDueAt(): number | undefined {
    let head = this.#delayed.peek();
    while (head && !head.live) {
      this.#delayed.pop();
      head = this.#delayed.peek();
    }
    return head?.entry.runAt;
  }

  /** Ids in the queue, ready or delayed. */
  ids(): IterableIterator<string> {
    return this.#queued.keys();
  }

  #promoteDue(now: number): void {
    for (
      let head = this.#delayed.peek();
      head && (head.entry.runAt <= now || !head.live);
      head = this.#delayed.peek()
    ) {
      this.#delayed.pop();
      if (head.live) this.#readyQueue(head.entry.name).push(head);
    }
  }

  #readyQueue(name: string): ReadyQueue<Queued> {
    let queue = this.#ready.get(name);
    if (!queue) {
      queue = new ReadyQueue<Queued>();
      this.#ready.set(name, queue);
    }
    return queue;
  }
}
