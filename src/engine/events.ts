import type { TaskProgress, TaskRecord } from "../store/index.ts";
import type { EventAction, LogLevel, TaskStatus } from "../task/index.ts";

/** Everything the manager announces; the HTTP layer streams these as Server-Sent Events. */
export type ManagerEvent =
  | {
      type: "transition";
      at: number;
      task: TaskRecord;
      from: TaskStatus | null;
      to: TaskStatus;
      action: EventAction;
      reason: string | null;
      actor: string | null;
      source: string | null;
    }
  /** A control request stored for a running task ("pause", "stop", "restart") or withdrawn ("resume"). */
  | {
      type: "request";
      at: number;
      task: TaskRecord;
      action: EventAction;
      reason: string | null;
      actor: string | null;
      source: string | null;
    }
  | { type: "progress"; at: number; taskId: string; progress: TaskProgress }
  | { type: "log"; at: number; taskId: string; level: LogLevel; message: string };

export type ManagerListener = (event: ManagerEvent) => void;

/** Events an EventHub holds back; see EventHub.hold. */
export interface HeldEvents {
  /** How many are held so far. */
  readonly count: number;
  release(): void;
  discard(): ManagerEvent[];
}

/** A listener set that isolates the manager from listeners that throw. */
export class EventHub {
  readonly #listeners = new Set<ManagerListener>();
  /** Listeners that also hear what other nodes sharing the database did. */
  readonly #clusterWide = new Set<ManagerListener>();
  #held: ManagerEvent[] | undefined;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  /**
   * With `clusterWide`, the listener also hears the transitions of tasks on other nodes (the
   * event stream, waiters, counts); without it, only what this node did (observers and webhooks,
   * which each node runs for its own writes, so that nothing is delivered twice).
   */
  subscribe(listener: ManagerListener, { clusterWide = false }: { clusterWide?: boolean } = {}): () => void {
    this.#listeners.add(listener);
    if (clusterWide) this.#clusterWide.add(listener);
    return () => {
      this.#listeners.delete(listener);
      this.#clusterWide.delete(listener);
    };
  }

  /** What another node did, as read from the database: heard by cluster-wide listeners only. */
  emitFromOtherNode(event: ManagerEvent): void {
    for (const listener of this.#clusterWide) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Holds events back from now on: listeners hear them on `release()` (the writes they announce
   * are committed), or never if the caller `discard()`s them and takes them instead.
   */
  hold(): HeldEvents {
    if (this.#held) throw new Error("events are already held");
    const held: ManagerEvent[] = [];
    this.#held = held;
    const end = () => {
      if (this.#held === held) this.#held = undefined;
    };
    return {
      get count() {
        return held.length;
      },
      release: () => {
        end();
        for (const event of held.splice(0)) this.emit(event);
      },
      discard: () => {
        end();
        return held.splice(0);
      },
    };
  }

  emit(event: ManagerEvent): void {
    if (this.#held) {
      this.#held.push(event);
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
