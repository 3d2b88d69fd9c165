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

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  subscribe(listener: ManagerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  emit(event: ManagerEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
