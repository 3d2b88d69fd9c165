import { StorageUnavailableError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { GuardedStore } from "./storage-guard.ts";
import { TurnBatch } from "./turn-batch.ts";
import type { WriteRetry } from "./write-retry.ts";

/** A run whose RUNNING row is not committed yet: its worker hears of it only once it is. */
export interface PendingStart {
  launch: () => void;
  undo: () => void;
}

/**
 * Writes what worker messages cause (a run's end or pause, then the next runs' starts) in one
 * transaction: one commit instead of one per write. A message's writes wait for the end of the
 * event-loop turn, so every end that arrived meanwhile (on a busy main thread, one from each
 * worker) shares that commit: the pages they touch are written once. Deferring a message is the
 * same as receiving it a moment later, which the engine already allows for. Listeners hear of
 * the writes, and workers are told to run, only once they are committed. If the commit fails on a
 * storage fault, nothing of it is in the database: the ends are kept and retried like any write
 * that failed (and announced once written), and the starts are undone, as a start that fails
 * alone is.
 */
export class MessageCommits {
  #starts: PendingStart[] | undefined;
  readonly #deferred = new TurnBatch<{ label: string; end: () => void }>((messages) => {
    const label = messages.length === 1 ? (messages[0]?.label ?? "") : `${messages.length} worker messages`;
    this.#commit(label, () => {
      for (const message of messages) message.end();
    });
  });

  constructor(
    private readonly guard: GuardedStore,
    private readonly hub: EventHub,
    private readonly writes: WriteRetry,
    /** Starts what the ends made room for; runs inside the same commit. */
    private readonly startNext: () => void,
  ) {}

  /** Writes a worker message's `end` at the end of this event-loop turn, with the others. */
  defer(label: string, end: () => void): void {
    this.#deferred.add({ label, end });
  }

  /** Writes the deferred messages now (shutdown calls it before it ends the runs left). */
  flush(): void {
    this.#deferred.flush();
  }

  /** Starts a run now, or once the open commit holding its RUNNING row is made. */
  launch(start: PendingStart): void {
    if (this.#starts) this.#starts.push(start);
    else start.launch();
  }

  /** Runs `end` (the messages' own writes), then `startNext`, in one commit. */
  #commit(label: string, end: () => void): void {
    if (this.guard.fault) {
      // During a storage outage every write goes on its own, so each can fail and be kept alone.
      end();
      this.startNext();
      return;
    }
    const starts: PendingStart[] = [];
    let endWrites = 0;
    let endEvents = 0;
    this.#starts = starts;
    const held = this.hub.hold();
    try {
      this.guard.batch(() => {
        end();
        endWrites = this.guard.journalLength;
        endEvents = held.count;
        this.startNext();
      });
    } catch (error) {
      const events = held.discard();
      if (!(error instanceof StorageUnavailableError)) throw error;
      for (const start of starts) start.undo();
      this.writes.keep(label, [
        ...error.unwritten.slice(0, endWrites),
        () => {
          for (const event of events.slice(0, endEvents)) this.hub.emit(event);
        },
      ]);
      return;
    } finally {
      this.#starts = undefined;
    }
    held.release();
    for (const start of starts) start.launch();
  }
}
