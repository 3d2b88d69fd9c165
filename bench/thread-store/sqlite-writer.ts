import type { SqliteSyncStoreOptions } from "../../src/store/sqlite.ts";
import type {
  FromWriter,
  ToWriter,
  WriterCall,
  WriterCommand,
  WriterOutcome,
} from "./sqlite-writer-calls.ts";
import { decodeError, decodeValue, encodeValue, type SentError } from "./thread-values.ts";

/** Where the writer thread's code is: the source file beside this one. */
export const SQLITE_WRITER_URL = new URL("./sqlite-writer-worker.ts", import.meta.url);

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface SqliteWriterOptions {
  /** The store's options, for the writer's own connection (keys, durability). */
  store: Omit<SqliteSyncStoreOptions, "onCheckpointFallback" | "backgroundCheckpoints">;
  /** The writer thread's entrypoint (default `SQLITE_WRITER_URL`). */
  url?: string | URL | undefined;
  /** Called before any call's promise settles with an answer: the writes it reports are committed. */
  onAnswer: () => void;
  onCheckpointFallback?: ((error: string) => void) | undefined;
}

/** Bun's Worker can be left out of what keeps the process alive, and put back; the DOM type lacks these. */
type RefWorker = Worker & { ref(): void; unref(): void };

/**
 * The main thread's end of the SQLite writer thread. A call is queued and sent with the others
 * made in the same microtask, in one message; the thread makes them in order and answers them
 * together. Calls are never reordered, so a transaction opened by one call holds every call sent
 * until the call that ends it.
 */
export class SqliteWriter {
  readonly #worker: RefWorker;
  #outbox: WriterCommand[] = [];
  #outboxWaiters: Waiter[] = [];
  #flushQueued = false;
  /** The waiters of each message sent and not answered yet, oldest first. */
  readonly #inFlight: Waiter[][] = [];
  readonly #opened: Promise<void>;
  #closing: Waiter | undefined;
  /** Why the thread can no longer be used, once it cannot. */
  #broken: Error | undefined;
  #referenced = false;

  constructor(private readonly options: SqliteWriterOptions) {
    this.#worker = new Worker(options.url ?? SQLITE_WRITER_URL, { ref: false }) as RefWorker;
    let opened!: Waiter;
    this.#opened = new Promise<void>((resolve, reject) => {
      opened = { resolve: () => resolve(), reject };
    });
    // Read only by whoever awaits `opened`; a failed open also fails every call, from the thread.
    this.#opened.catch(() => {});
    this.#worker.onmessage = (event: MessageEvent<FromWriter>) => this.#receive(event.data, opened);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`the SQLite writer thread stopped: ${event.message}`));
      opened.reject(this.#broken);
    };
    this.#post({ type: "open", options: options.store });
  }

  /** Resolves once the writer has opened the file, or rejects with why it could not. */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /** Makes `call` on the writer thread, after every call made before it. */
  call(call: WriterCall, args: unknown[]): Promise<unknown> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#outbox.push([call, args.map((arg) => encodeValue(arg))]);
      this.#outboxWaiters.push({ resolve, reject });
      if (this.#flushQueued) return;
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    });
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#outbox.length === 0) return;
    const commands = this.#outbox;
    this.#inFlight.push(this.#outboxWaiters);
    this.#outbox = [];
    this.#outboxWaiters = [];
    this.#reference();
    this.#post(JSON.stringify(commands));
  };

  /** Closes the writer's connection (its last checkpoint included), then ends the thread. */
  async close(): Promise<void> {
    this.#flush();
    if (!this.#broken) {
      const closed = new Promise<unknown>((resolve, reject) => {
        this.#closing = { resolve, reject };
      });
      this.#reference();
      this.#post({ type: "close" });
      try {
        await closed;
      } finally {
        this.#broken = new Error("the SQLite store is closed");
        this.#worker.terminate();
      }
    }
  }

  #receive(message: FromWriter, opened: Waiter): void {
    if (typeof message === "string") {
      this.#answered(JSON.parse(message) as WriterOutcome[]);
      return;
    }
    switch (message.type) {
      case "opened":
        opened.resolve(undefined);
        return;
      case "failed":
        opened.reject(decodeError(message.error as SentError));
        return;
      case "checkpoint-fallback":
        this.options.onCheckpointFallback?.(message.error);
        return;
      case "closed": {
        const closing = this.#closing;
        this.#closing = undefined;
        this.#unreference();
        if (message.error) closing?.reject(decodeError(message.error as SentError));
        else closing?.resolve(undefined);
        return;
      }
    }
  }

  /** A batch's outcomes: its calls' promises settle, in the order the calls were made. */
  #answered(outcomes: WriterOutcome[]): void {
    const waiters = this.#inFlight.shift() ?? [];
    if (this.#inFlight.length === 0 && !this.#closing) this.#unreference();
    this.options.onAnswer();
    for (let index = 0; index < outcomes.length; index++) {
      const [ok, value] = outcomes[index] as WriterOutcome;
      const waiter = waiters[index];
      if (ok) waiter?.resolve(decodeValue(value));
      else waiter?.reject(decodeError(value as SentError));
    }
  }

  #post(message: ToWriter): void {
    this.#worker.postMessage(message);
  }

  /** Every call waiting, and every later one, rejects with `error`. */
  #fail(error: Error): void {
    this.#broken ??= error;
    this.#unreference();
    for (const waiters of this.#inFlight.splice(0)) for (const waiter of waiters) waiter.reject(error);
    for (const waiter of this.#outboxWaiters.splice(0)) waiter.reject(error);
    this.#outbox = [];
    this.#closing?.reject(error);
    this.#closing = undefined;
  }

  // The thread keeps the process alive only while an answer is awaited: an idle store must not
  // hold a process open, but a write under way must not be cut off by the process ending.
  #reference(): void {
    if (this.#referenced) return;
    this.#referenced = true;
    this.#worker.ref();
  }

  #unreference(): void {
    if (!this.#referenced) return;
    this.#referenced = false;
    this.#worker.unref();
  }
}
