import type { TaskWrites } from "../../store/index.ts";
import type { EventHub, ManagerEvent } from "../events.ts";
import type { GuardedStore } from "./storage-guard.ts";

/**
 * An error that is not a storage fault, met inside a transaction made without savepoints: the
 * transaction is rolled back and made again with each attempt in a savepoint of its own, so that
 * only the part that fails is lost (on PostgreSQL a failed statement spoils the whole transaction).
 */
class RedoWithSavepoints extends Error {
  constructor(readonly original: unknown) {
    super("redo with savepoints");
  }
}

/**
 * The writes of one transaction and what follows from them. Events are announced, and
 * `afterCommit` callbacks run, only once it is committed; if it is rolled back, the `onRollback`
 * callbacks undo what was done outside the database meanwhile, last first.
 */
export class Unit {
  readonly #events: ManagerEvent[] = [];
  readonly #after: (() => void)[] = [];
  readonly #undo: (() => void)[] = [];

  constructor(
    readonly tx: TaskWrites,
    private readonly guard: GuardedStore,
    private readonly savepoints: boolean,
  ) {}

  announce(event: ManagerEvent): void {
    this.#events.push(event);
  }

  afterCommit(fn: () => void): void {
    this.#after.push(fn);
  }

  onRollback(fn: () => void): void {
    this.#undo.push(fn);
  }

  /** Whether `error` must be passed on rather than handled: a storage fault, or a redo under way. */
  passOn(error: unknown): boolean {
    return error instanceof RedoWithSavepoints || this.guard.isFault(error);
  }

  /**
   * Runs `fn` as a part that may fail alone: when it rejects with an error that is not a storage
   * fault, its writes are undone and the rejection passed on, while the rest goes on. The first
   * time through a transaction this costs nothing (no savepoint, no await of its own): such an
   * error makes the whole transaction start again, this time with a savepoint around each part.
   */
  attempt<T>(fn: (unit: Unit) => Promise<T>): Promise<T> {
    if (this.savepoints) return this.#attemptInSavepoint(fn);
    let result: Promise<T>;
    try {
      result = fn(this);
    } catch (error) {
      return Promise.reject(this.#redoUnlessPassedOn(error));
    }
    return result.then(undefined, (error: unknown) => {
      throw this.#redoUnlessPassedOn(error);
    });
  }

  #redoUnlessPassedOn(error: unknown): unknown {
    return this.passOn(error) ? error : new RedoWithSavepoints(error);
  }

  async #attemptInSavepoint<T>(fn: (unit: Unit) => Promise<T>): Promise<T> {
    let part: Unit | undefined;
    try {
      const result = await this.tx.attempt((tx) => {
        part = new Unit(tx, this.guard, true);
        return fn(part);
      });
      if (part) {
        this.#events.push(...part.#events);
        this.#after.push(...part.#after);
        this.#undo.push(...part.#undo);
      }
      return result;
    } catch (error) {
      if (part) part.#rollBack();
      throw error;
    }
  }

  /**
   * Runs `fn` for each item: parts that do not depend on one another (writes of different
   * tasks). The first time through a transaction on a store that pipelines, every part is begun
   * before any is awaited, so their statements travel together (one round trip, not one each);
   * items are taken from `items` one at a time, each after the part before it has begun, so a
   * part may take what the next item depends on (a concurrency slot) before its first await.
   * Any failure but a storage fault, once every part has settled, makes the transaction start
   * again with savepoints, where the parts run one after another, as they would have anyway.
   */
  async each<T>(items: Iterable<T>, fn: (item: T) => Promise<void>): Promise<void> {
    if (this.savepoints || !this.guard.pipelines) {
      for (const item of items) await fn(item);
      return;
    }
    const parts: Promise<void>[] = [];
    try {
      for (const item of items) parts.push(fn(item));
    } catch (error) {
      // Taking the next item threw: no more are begun, and it fails like a part.
      parts.push(Promise.reject(error));
    }
    if (parts.length === 1) return parts[0];
    // Every part settled before the unit goes on: none registers an undo after a rollback.
    const outcomes = await Promise.allSettled(parts);
    let failure: { reason: unknown } | undefined;
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") continue;
      if (this.guard.isFault(outcome.reason)) throw outcome.reason;
      failure ??= outcome;
    }
    // On PostgreSQL a failed statement fails the statements sent after it: which part failed
    // first, and whether it fails alone, is for the redo to find out, one part at a time.
    if (failure) {
      throw failure.reason instanceof RedoWithSavepoints
        ? failure.reason
        : new RedoWithSavepoints(failure.reason);
    }
  }

  #commit(hub: EventHub): void {
    for (const event of this.#events) hub.emit(event);
    for (const fn of this.#after) fn();
  }

  #rollBack(): void {
    for (const fn of this.#undo.splice(0).reverse()) fn();
  }

  /**
   * Runs `fn` in one transaction of `guard` and announces its events once it is committed. A
   * storage fault rejects it with `StorageUnavailableError`, everything undone.
   */
  static async run<T>(guard: GuardedStore, hub: EventHub, fn: (unit: Unit) => Promise<T>): Promise<T> {
    for (const savepoints of [false, true]) {
      let unit: Unit | undefined;
      try {
        const result = await guard.transaction((tx) => {
          unit = new Unit(tx, guard, savepoints);
          return fn(unit);
        });
        if (unit) unit.#commit(hub);
        return result;
      } catch (error) {
        if (unit) unit.#rollBack();
        if (!(error instanceof RedoWithSavepoints)) throw error;
        if (savepoints) throw error.original;
      }
    }
    throw new Error("unreachable");
  }
}
