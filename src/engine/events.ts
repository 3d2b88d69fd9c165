import type { TaskProgress, TaskRecord } from "../store/index.ts";
import type { LogLevel, TaskStatus } from "../task/index.ts";

/** Everything the manager announces; the HTTP layer streams these as Server-Sent Events. */
export type ManagerEvent =
  | {
      type: "transition";
      at: number;
      task: TaskRecord;
      from: TaskStatus | null;
      to: TaskStatus;
      action: string;
      reason: string | null;
      actor: string | null;
      source: string | null;
    }
  /** A control request stored for a running task ("pause", "stop", "restart") or withdrawn ("resume"). */
  | {
      type: "request";
      at: number;
      task: TaskRecord;
      action: string;
      reason: string | null;
      actor: string | null;
      source: string | null;
    }
  | { type: "progress"; at: number; taskId: string; progress: TaskProgress }
  | { type: "log"; at: number; taskId: string; level: LogLevel; message: string };

export type ManagerListener = (event: ManagerEvent) => void;

/** A listener set that isolates the manager from listeners that throw. */
export class EventHub {
  readonly #listeners = new Set<ManagerListener>();
  #held: ManagerEvent[] | undefined;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  subscribe(listener: ManagerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Runs `fn` with its events held back: listeners hear them only if `fn` returns (its writes
   * committed). If it throws, the held events are attached to the error as `heldEvents` for the
   * caller to announce once those writes land, or to drop.
   */
  holding(fn: () => void): void {
    if (this.#held) {
      fn();
      return;
    }
    const held: ManagerEvent[] = [];
    this.#held = held;
    try {
      fn();
    } catch (error) {
      this.#held = undefined;
      if (error instanceof Error) Object.assign(error, { heldEvents: held });
      throw error;
    }
    this.#held = undefined;
    for (const event of held) this.emit(event);
  }

  /** Events held so far (0 when nothing is held). */
  get heldCount(): number {
    return this.#held?.length ?? 0;
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
