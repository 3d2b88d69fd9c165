/**
 * One lane per task: whoever holds it is the only one deciding and writing for that task, so a
 * task's writes apply in the order they were decided even with awaits between a decision and its
 * commit (a stop that arrives while the run's end is being committed waits, and decides from it).
 */
export class TaskLanes {
  /** Held lanes, with who waits for each, in order. */
  readonly #held = new Map<string, (() => void)[]>();

  /** Takes the lane now if it is free. */
  tryTake(id: string): boolean {
    if (this.#held.has(id)) return false;
    this.#held.set(id, []);
    return true;
  }

  /** Resolves once the lane is this caller's. */
  take(id: string): Promise<void> {
    if (this.tryTake(id)) return Promise.resolve();
    return new Promise((resolve) => this.#held.get(id)?.push(resolve));
  }

  /** Hands the lane to the next in line, or frees it. */
  release(id: string): void {
    const waiting = this.#held.get(id);
    const next = waiting?.shift();
    if (next) next();
    else this.#held.delete(id);
  }

  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    await this.take(id);
    try {
      return await fn();
    } finally {
      this.release(id);
    }
  }
}
