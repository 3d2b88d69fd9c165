import { StorageUnavailableError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { GuardedStore } from "./storage-guard.ts";
import { TurnBatch } from "./turn-batch.ts";

interface Submission<Result> {
  create: () => Result;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for creates: every `submit` made in one event-loop turn (a burst of API calls,
 * the HTTP requests that arrived together) is written in one transaction, and each promise
 * settles only once that transaction is committed, so a resolved create is as durable as one
 * from the synchronous `create()`. One commit writes the pages the tasks share (the table's
 * last leaf, the index leaves, the history's last leaf) once instead of once per task.
 *
 * A create that fails on its own (unknown name, invalid params) rejects alone and the others
 * go on; a storage fault fails the commit, so every create of the turn rejects and none of
 * them is in the database, their queue entries taken back by `undo` and their events unheard.
 */
export class CreateBatch<Result> {
  readonly #pending = new TurnBatch<Submission<Result>>((submissions) => this.#commit(submissions));

  constructor(
    private readonly guard: GuardedStore,
    private readonly hub: EventHub,
    /** Takes back what a create did outside the database (its queue entry) when its commit failed. */
    private readonly undo: (result: Result) => void,
  ) {}

  /** Runs `create` inside this turn's commit; the promise settles after it. */
  submit(create: () => Result): Promise<Result> {
    return new Promise<Result>((resolve, reject) => this.#pending.add({ create, resolve, reject }));
  }

  /** Writes the creates submitted so far now (shutdown calls it first, while they are still accepted). */
  flush(): void {
    this.#pending.flush();
  }

  #commit(submissions: Submission<Result>[]): void {
    const outcomes: ({ ok: true; result: Result } | { ok: false; error: unknown })[] = [];
    const held = this.hub.hold();
    try {
      this.guard.batch(() => {
        for (const submission of submissions) {
          try {
            outcomes.push({ ok: true, result: submission.create() });
          } catch (error) {
            if (error instanceof StorageUnavailableError) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      held.discard();
      for (const outcome of outcomes) if (outcome.ok) this.undo(outcome.result);
      for (const submission of submissions) submission.reject(error);
      return;
    }
    held.release();
    submissions.forEach((submission, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) submission.resolve(outcome.result);
      else submission.reject(outcome?.error);
    });
  }
}
