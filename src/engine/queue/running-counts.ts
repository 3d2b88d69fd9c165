/**
 * The runs that hold a concurrency slot, in all and per task name, against the limits; and who
 * waits for none to be left (shutdown).
 */
export class RunningCounts {
  readonly #byName = new Map<string, number>();
  #total = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly limitOf: (name: string) => number | undefined,
  ) {}

  get total(): number {
    return this.#total;
  }

  /** Whether another run of any name fits now. */
  hasFreeSlot(): boolean {
    return this.#total < this.concurrency;
  }

  /** Whether a run of `name` may start now: below the concurrency and the name's own limit. */
  canRun(name: string): boolean {
    if (this.#total >= this.concurrency) return false;
    const limit = this.limitOf(name);
    return limit === undefined || (this.#byName.get(name) ?? 0) < limit;
  }

  add(name: string, delta: 1 | -1): void {
    this.#total += delta;
    this.#byName.set(name, (this.#byName.get(name) ?? 0) + delta);
    if (this.#total === 0 && this.#idleWaiters.length > 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once no run holds a slot, or after `timeoutMs`. */
  untilIdle(timeoutMs: number): Promise<void> {
    if (this.#total === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
