/** An item of the ready queue: ordered by priority (higher first), then by id (older first). */
export interface Ranked {
  readonly priority: number;
  readonly id: string;
  /** False once the item left the queue some other way; it is skipped and dropped when met. */
  readonly live: boolean;
}

/**
 * The items of one priority, in id order. Tasks are created with increasing ids (UUIDv7), so
 * nearly every item goes at the end; one that is older than the last (a retry, a resume, a
 * task restored at start-up) is put in its place by binary search.
 */
class IdOrderedRun<T extends Ranked> {
  #items: T[] = [];
  #head = 0;

  get empty(): boolean {
    this.#skipDead();
    return this.#head === this.#items.length;
  }

  peek(): T | undefined {
    this.#skipDead();
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    this.#skipDead();
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#head++;
    // Give the consumed front back once it is most of the array.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  push(item: T): void {
    const items = this.#items;
    const last = items[items.length - 1];
    if (items.length === this.#head || last === undefined || last.id <= item.id) {
      items.push(item);
      return;
    }
    let lo = this.#head;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((items[mid] as T).id <= item.id) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, item);
  }

  #skipDead(): void {
    const items = this.#items;
    while (this.#head < items.length && !(items[this.#head] as T).live) this.#head++;
  }
}

/**
 * The ready items of one task name: first the highest priority, then the oldest id. A heap did
 * this with a string comparison per level on every push and pop; here a push is an append and a
 * pop takes the front, which is what a queue of thousands of equal-priority tasks needs.
 */
export class ReadyQueue<T extends Ranked> {
  readonly #runs = new Map<number, IdOrderedRun<T>>();
  /** The priorities that have a run, highest first. */
  #priorities: number[] = [];

  /** The item that comes first, without taking it; undefined when none is live. */
  peek(): T | undefined {
    return this.#firstRun()?.peek();
  }

  /** Takes the item that comes first. */
  pop(): T | undefined {
    return this.#firstRun()?.shift();
  }

  push(item: T): void {
    let run = this.#runs.get(item.priority);
    if (!run) {
      run = new IdOrderedRun<T>();
      this.#runs.set(item.priority, run);
      const at = this.#priorities.findIndex((priority) => priority < item.priority);
      if (at === -1) this.#priorities.push(item.priority);
      else this.#priorities.splice(at, 0, item.priority);
    }
    run.push(item);
  }

  /** The run of the highest priority that still has a live item; empty runs are dropped. */
  #firstRun(): IdOrderedRun<T> | undefined {
    while (this.#priorities.length > 0) {
      const priority = this.#priorities[0] as number;
      const run = this.#runs.get(priority);
      if (run && !run.empty) return run;
      this.#runs.delete(priority);
      this.#priorities.shift();
    }
    return undefined;
  }
}
