import type { GuardedStore } from "../commit/storage-guard.ts";
import { TurnBatch } from "../commit/turn-batch.ts";
import { Unit } from "../commit/unit.ts";
import type { EventHub } from "../events.ts";

interface Submission<Result> {
  create: (unit: Unit) => Promise<Result>;
  /** Must see the writes of the ordered creates submitted before it (an idempotency key's lookup). */
  ordered: boolean;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

type Outcome<Result> = { ok: true; result: Result } | { ok: false; error: unknown };

/**
 * Group commit for creates: every `submit` made in one event-loop turn (a burst of API calls,
 * the HTTP requests that arrived together) is written in one transaction, and each promise
 * settles only once that transaction is committed. One commit writes the pages the tasks share
 * (the table's last leaf, the index leaves, the history's last leaf) once instead of once per task.
 *
 * A create that fails on its own (a duplicate key) rejects alone and the others go on; a storage
 * fault fails the commit, so every create of the turn rejects and none of them is in the
 * database, what they did outside it undone (`Unit.onRollback`) and their events unheard.
 */
export class CreateBatch<Result> {
  readonly #pending = new TurnBatch<Submission<Result>>((submissions) => {
    this.#flushed = this.#flushed.then(() => this.#commit(submissions));
  });
  /** Settles once every batch handed over so far is committed or failed; one at a time. */
  #flushed: Promise<void> = Promise.resolve();

  constructor(
    private readonly guard: GuardedStore,
    private readonly hub: EventHub,
  ) {}

  /**
   * Runs `create` inside this turn's commit; the promise settles after it. An `ordered` create
   * runs after the ordered creates submitted before it, even where the others are sent together.
   */
  submit(create: (unit: Unit) => Promise<Result>, ordered = false): Promise<Result> {
    return new Promise<Result>((resolve, reject) => this.#pending.add({ create, ordered, resolve, reject }));
  }

  /** Writes the creates submitted so far now, and waits for them (shutdown, while they are still accepted). */
  flush(): Promise<void> {
    this.#pending.flush();
    return this.#flushed;
  }

  async #commit(submissions: Submission<Result>[]): Promise<void> {
    let outcomes: Outcome<Result>[] = [];
    try {
      await Unit.run(this.guard, this.hub, async (unit) => {
        // Made again from the start when a transaction is redone.
        outcomes = [];
        const made = outcomes;
        const one = async (i: number, submission: Submission<Result>) => {
          try {
            made[i] = { ok: true, result: await unit.attempt(submission.create) };
          } catch (error) {
            if (unit.passOn(error)) throw error;
            made[i] = { ok: false, error };
          }
        };
        // Different new tasks: begun together where the store pipelines, one by one otherwise;
        // the ordered ones form one chain among them, in the order they were submitted.
        const chain: number[] = [];
        const groups: number[][] = [];
        submissions.forEach((submission, i) => {
          if (!submission.ordered) groups.push([i]);
          else if (chain.push(i) === 1) groups.push(chain);
        });
        await unit.each(groups, async (group) => {
          for (const i of group) await one(i, submissions[i] as Submission<Result>);
        });
      });
    } catch (error) {
      for (const submission of submissions) submission.reject(error);
      return;
    }
    submissions.forEach((submission, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) submission.resolve(outcome.result);
      else submission.reject(outcome?.error);
    });
  }
}
