import { useEffect, useRef, useState } from "preact/hooks";
import { followEvents } from "./sse.ts";
import { eventTaskId, type StreamEvent } from "./types.ts";

/** "shutdown": the server said it is shutting down; the page keeps trying until it is back. */
export type Connection = "connecting" | "live" | "down" | "shutdown";

type Listener = (event: StreamEvent) => void;

const KNOWN = new Set(["transition", "request", "progress", "log"]);
/** The stream's last event when the server shuts down (SHUTDOWN_EVENT in src/http/event-stream.ts). */
const SHUTDOWN = "shutdown";

/**
 * The page's one connection to GET /events, shared by every view. Views subscribe to events
 * and to reconnections (after which they reload what they show, since events sent while the
 * page was away are not replayed).
 */
class LiveEvents {
  readonly #listeners = new Set<Listener>();
  readonly #reconnectListeners = new Set<() => void>();
  readonly #connectionListeners = new Set<(state: Connection) => void>();
  readonly #deletionListeners = new Set<(id: string) => void>();
  readonly #seq = new Map<string, number>();
  #connection: Connection = "connecting";
  /** Set by a shutdown event, until the stream is open again: failed reconnects keep saying so. */
  #serverShutDown = false;
  #stream: { stop: () => void } | undefined;

  get connection(): Connection {
    return this.#connection;
  }

  start(url: string, onUnauthorized: () => void): void {
    this.stop();
    this.#serverShutDown = false;
    this.#setConnection("connecting");
    this.#stream = followEvents(url, {
      onMessage: (message) => {
        if (message.event === SHUTDOWN) {
          this.#serverShutDown = true;
          this.#setConnection("shutdown");
          return;
        }
        if (!KNOWN.has(message.event)) return;
        let event: StreamEvent;
        try {
          event = { type: message.event, data: JSON.parse(message.data) } as StreamEvent;
        } catch {
          return; // not JSON: nothing this page can show
        }
        const id = eventTaskId(event);
        this.#seq.set(id, (this.#seq.get(id) ?? 0) + 1);
        for (const listener of this.#listeners) listener(event);
      },
      onOpen: () => {
        this.#serverShutDown = false;
        this.#setConnection("live");
        for (const listener of this.#reconnectListeners) listener();
      },
      onDown: () => this.#setConnection(this.#serverShutDown ? "shutdown" : "down"),
      onUnauthorized,
    });
  }

  stop(): void {
    this.#stream?.stop();
    this.#stream = undefined;
  }

  /**
   * How many events this page has seen about a task. An action's HTTP answer may arrive after
   * a newer event about the same task; comparing counts tells which one is current.
   */
  seqOf(taskId: string): number {
    return this.#seq.get(taskId) ?? 0;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => this.#reconnectListeners.delete(listener);
  }

  /** The stream says nothing of deletions: this page's own are announced here to every view. */
  deleted(id: string): void {
    for (const listener of this.#deletionListeners) listener(id);
  }

  onDeleted(listener: (id: string) => void): () => void {
    this.#deletionListeners.add(listener);
    return () => this.#deletionListeners.delete(listener);
  }

  onConnection(listener: (state: Connection) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  #setConnection(state: Connection): void {
    this.#connection = state;
    for (const listener of this.#connectionListeners) listener(state);
  }
}

export const live = new LiveEvents();

/** Calls the latest `listener` for every event while the component is mounted. */
export function useLiveEvents(listener: Listener): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => live.subscribe((event) => latest.current(event)), []);
}

/** Calls the latest `listener` after every (re)connection of the event stream. */
export function useReconnect(listener: () => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => live.onReconnect(() => latest.current()), []);
}

/** Calls the latest `listener` with the id of each task this page deletes. */
export function useDeletions(listener: (id: string) => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => live.onDeleted((id) => latest.current(id)), []);
}

export function useConnection(): Connection {
  const [state, setState] = useState(live.connection);
  useEffect(() => live.onConnection(setState), []);
  return state;
}
