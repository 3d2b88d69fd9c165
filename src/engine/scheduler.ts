import { Heap } from "./heap.ts";

/** A PENDING task waiting for a worker. */
export interface QueueEntry {
  id: string;
  name: string;
  priority: number;
  /** Epoch ms before which it must not start; 0 when it may start now. */
  runAt: number;
}

interface Slot {
  entry: QueueEntry;
  /** Cleared when the task leaves the queue other than by being picked (pause, stop, …). */
  live: boolean;
}

// Higher priority first, then older tasks (ids are UUIDv7, so they sort by creation time).
const byPriority = (a: Slot, b: Slot) =>
  a.entry.priority !== b.entry.priority ? a.entry.priority > b.entry.priority : a.entry.id < b.entry.id;
const byRunAt = (a: Slot, b: Slot) =>
  a.entry.runAt !== b.entry.runAt ? a.entry.runAt < b.entry.runAt : byPriority(a, b);

/**
 * The in-memory queue of PENDING tasks: one priority heap per task name (so a name at its
 * concurrency limit does not block the others) and one heap of delayed tasks.
 */
export class Scheduler {
  readonly #ready = new Map<string, Heap<Slot>>();
  readonly #delayed = new Heap<Slot>(byRunAt);
  readonly #queued = new Map<string, Slot>();

  get size(): number {
    return this.#queued.size;
  }

  has(id: string): boolean {
    return this.#queued.has(id);
  }

  enqueue(entry: QueueEntry, now = Date.now()): void {
    this.remove(entry.id);
    const slot: Slot = { entry, live: true };
    this.#queued.set(entry.id, slot);
    if (entry.runAt > now) this.#delayed.push(slot);
    else this.#readyHeap(entry.name).push(slot);
  }

  remove(id: string): boolean {
    const slot = this.#queued.get(id);
    if (!slot) return false;
    slot.live = false;
    this.#queued.delete(id);
    return true;
  }

  /** Takes the best task that may start now among the names `canRun` allows. */
  next(canRun: (name: string) => boolean, now = Date.now()): QueueEntry | undefined {
    this.#promoteDue(now);
    let best: Slot | undefined;
    let bestHeap: Heap<Slot> | undefined;
    for (const [name, heap] of this.#ready) {
      let head = heap.peek();
      while (head && !head.live) {
        heap.pop();
        head = heap.peek();
      }
      if (!head) {
        this.#ready.delete(name);
        continue;
      }
      if (!canRun(name)) continue;
      if (!best || byPriority(head, best)) {
        best = head;
        bestHeap = heap;
      }
    }
    if (!best || !bestHeap) return undefined;
    bestHeap.pop();
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
      if (head.live) this.#readyHeap(head.entry.name).push(head);
    }
  }

  #readyHeap(name: string): Heap<Slot> {
    let heap = this.#ready.get(name);
    if (!heap) {
      heap = new Heap<Slot>(byPriority);
      this.#ready.set(name, heap);
    }
    return heap;
  }
}
