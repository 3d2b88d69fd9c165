import type { Unit } from "../commit/unit.ts";

interface Submission<Result> {
  create: (unit: Unit) => Promise<Result>;
  /** Must see the writes of the ordered creates submitted before it (an idempotency key's lookup). */
  ordered: boolean;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

type Outcome<Result> = { ok: true; result: Result } | { ok: false; error: unknown };

/** The creates a turn's commit takes: written inside its unit, then each settled by how it went. */
export interface TurnCreates {
  /** Writes every create in `unit`; called again from the start when the transaction is redone. */
  write(unit: Unit): Promise<void>;
  /** The unit is committed: each create resolves, or rejects alone (a duplicate key). */
  committed(): void;
  /** The unit failed (a storage fault): every create rejects with `error`, none of them written. */
  failed(error: unknown): void;
}

/** What the creates need of the turn's commit (`TurnCommits`). */
export interface CreateCommits {
  /** A create is waiting: commit it at the end of this turn. */
  requestCreates(): void;
  /** Commits everything waiting now, and waits for it. */
  flush(): Promise<void>;
}

/**
 * Group commit for creates: every `submit` made in one event-loop turn (a burst of API calls,
 * the HTTP requests that arrived together) is written in that turn's one transaction, with what
 * the turn's worker messages caused and the next starts (`TurnCommits`), and each promise settles
 * only once that transaction is committed. One commit writes the pages the tasks share (the
 * table's last leaf, the index leaves, the history's last leaf) once instead of once per task,
 * and a turn that both creates tasks and ends runs pays for one commit, not two.
 *
 * A create that fails on its own (a duplicate key) rejects alone and the others go on; a storage
 * fault fails the commit, so every create of the turn rejects and none of them is in the
 * database, what they did outside it undone (`Unit.onRollback`) and their events unheard.
 */
export class CreateBatch<Result> {
  #submissions: Submission<Result>[] = [];

  constructor(private readonly commits: CreateCommits) {}

  /**
   * Runs `create` inside this turn's commit; the promise settles after it. An `ordered` create
   * runs after the ordered creates submitted before it, even where the others are sent together.
   */
  submit(create: (unit: Unit) => Promise<Result>, ordered = false): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#submissions.push({ create, ordered, resolve, reject });
      this.commits.requestCreates();
    });
  }

  /**
   * Writes the creates submitted so far now, with what else waits for the turn's commit, and
   * waits for them and for a commit under way (shutdown, while they are still accepted).
   */
  flush(): Promise<void> {
    return this.commits.flush();
  }

  /** Whether creates were submitted since the last take. */
  get waiting(): boolean {
    return this.#submissions.length > 0;
  }

  /** The creates submitted since the last take, for the commit about to be made; undefined when none is. */
  take(): TurnCreates | undefined {
    if (this.#submissions.length === 0) return undefined;
    const submissions = this.#submissions;
    this.#submissions = [];
    return new CreatesOfTurn(submissions);
  }
}

class CreatesOfTurn<Result> implements TurnCreates {
  #outcomes: Outcome<Result>[] = [];

  constructor(private readonly submissions: Submission<Result>[]) {}

  async write(unit: Unit): Promise<void> {
    // Made again from the start when a transaction is redone.
    const made: Outcome<Result>[] = [];
    this.#outcomes = made;
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
    this.submissions.forEach((submission, i) => {
      if (!submission.ordered) groups.push([i]);
      else if (chain.push(i) === 1) groups.push(chain);
    });
    await unit.each(groups, async (group) => {
      for (const i of group) await one(i, this.submissions[i] as Submission<Result>);
    });
  }

  committed(): void {
    this.submissions.forEach((submission, i) => {
      const outcome = this.#outcomes[i];
      if (outcome?.ok) submission.resolve(outcome.result);
      else submission.reject(outcome?.error);
    });
  }

  failed(error: unknown): void {
    for (const submission of this.submissions) submission.reject(error);
  }
}
