import { StorageUnavailableError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { GuardedStore } from "./storage-guard.ts";
import type { WriteRetry } from "./write-retry.ts";

/** A run whose RUNNING row is not committed yet: its worker hears of it only once it is. */
export interface PendingStart {
  launch: () => void;
  undo: () => void;
}

/**
 * Writes what one worker message causes (a run's end or pause, then the next runs' starts) in
 * one transaction: one commit instead of one per write. Listeners hear of it, and workers are
 * told to run, only once it is committed. If the commit fails on a storage fault, nothing of it
 * is in the database: the end is kept and retried like any write that failed (and announced
 * once written), and the starts are undone, as a start that fails alone is.
 */
export class MessageCommits {
  #starts: PendingStart[] | undefined;

  constructor(
    private readonly guard: GuardedStore,
    private readonly hub: EventHub,
    private readonly writes: WriteRetry,
  ) {}

  /** Starts a run now, or once the open commit holding its RUNNING row is made. */
  launch(start: PendingStart): void {
    if (this.#starts) this.#starts.push(start);
    else start.launch();
  }

  /** Runs `end` (the message's own writes), then `startNext`, in one commit. */
  run(label: string, end: () => void, startNext: () => void): void {
    if (this.guard.fault) {
      // During a storage outage every write goes on its own, so each can fail and be kept alone.
      end();
      startNext();
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
        startNext();
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
