// The contract alone: a task engine with nothing in it but what kiln promises of every task.
//   - a task is acknowledged once its row and its `create` history row are committed;
//   - it starts on a Bun Worker that runs one task at a time, and its worker hears of it only once
//     its RUNNING row and history row are committed;
//   - its end is committed, with its history row, before anyone hears of it;
//   - the writes of one event-loop turn share one commit (creates, ends and the next starts
//     together), on kiln's own schema and statements, with kiln's PRAGMAs and its WAL checkpoints
//     on another thread; made on the main thread, as kiln makes them, or (`writer: "thread"`) on a
//     thread of its own, handed each request's and message's writes at once, which commits the
//     batches that reach it together in one transaction.
// No lanes, no fences, no counts, no events to subscribers, no telemetry, no checks of what a
// worker sends, no retries: what it runs at is what any design that keeps the contract could
// reach on this machine, before it does any of the rest.
import { Database } from "bun:sqlite";
import type { WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { ECHO_WORKER, useKilnPragmas } from "../engine-statements.ts";
import { RUN_MESSAGE } from "../run-message.ts";
import { leanCheckpointer, type TurnBatch, TurnWriter } from "./turn-writer.ts";
import type { WriterControl } from "./writer-thread.ts";

interface Create {
  id: string;
  name: string;
  params: string | null;
  acknowledge: () => void;
}

/** A task's row as the read below returns it. */
export interface LeanTaskRow {
  id: string;
  task_name: string;
  status: string;
  params: string | null;
  result: string | null;
  created_at: number;
  start_time: number | null;
  end_time: number | null;
}

interface Ended {
  worker: Worker;
  taskId: string;
}

/** Where the contract alone's commits are made. */
export type LeanWriter = "main" | "thread";

export interface LeanOptions {
  /**
   * Commit a turn's creates apart from its ends and starts, as kiln did until 2026-12-05 (its
   * creates and its worker messages each had a group commit of their own): what one commit a
   * turn saves.
   */
  splitCreates?: boolean;
  /** "main" (default): each turn commits on the main thread; "thread": on a writer thread. */
  writer?: LeanWriter;
}

/** What a turn does once its batch is committed: acknowledge its creates, announce its ends, start its runs. */
type AfterCommit = () => void;

export class LeanEngine {
  /** The main thread's connection: every write with `writer: "main"`, reads only with "thread". */
  readonly #db: Database;
  readonly #read;
  readonly #turnWriter: TurnWriter | undefined;
  readonly #checkpointer: WalCheckpointer | undefined;
  readonly #writerThread: Worker | undefined;
  /** Batches sent to the writer thread and not yet committed, oldest first. */
  readonly #inFlight: AfterCommit[] = [];
  #inFlightHead = 0;
  readonly #workers: Worker[];
  readonly #idle: Worker[];
  readonly #ready: string[] = [];
  #readyHead = 0;
  #creates: Create[] = [];
  #ends: Ended[] = [];
  #scheduled = false;

  constructor(
    path: string,
    concurrency: number,
    /** Called after each commit that ended tasks, with how many. */
    private readonly completed: (count: number) => void,
    options: LeanOptions = {},
  ) {
    this.#db = new Database(path);
    useKilnPragmas(this.#db);
    this.#read = this.#db.prepare<LeanTaskRow, [string]>(
      "SELECT id, task_name, status, params, result, created_at, start_time, end_time FROM tasks WHERE id = ?",
    );
    if (options.writer === "thread") {
      const thread = new Worker(new URL("./writer-thread.ts", import.meta.url).href);
      thread.onmessage = (event: MessageEvent<number | string>) => {
        if (typeof event.data === "number") this.#committed(event.data);
      };
      const open: WriterControl = { type: "open", path, splitCreates: options.splitCreates ?? false };
      thread.postMessage(open);
      this.#writerThread = thread;
    } else {
      this.#turnWriter = new TurnWriter(this.#db, options.splitCreates ?? false);
      this.#checkpointer = leanCheckpointer(this.#db, path);
    }
    const url = URL.createObjectURL(new Blob([ECHO_WORKER], { type: "text/javascript" }));
    this.#workers = Array.from({ length: concurrency }, () => {
      const worker = new Worker(url);
      worker.onmessage = (event: MessageEvent<string>) => {
        const message = JSON.parse(event.data) as { taskId: string };
        this.#ends.push({ worker, taskId: message.taskId });
        this.#schedule();
      };
      return worker;
    });
    this.#idle = [...this.#workers];
  }

  /** `count` new tasks of `name`; resolves once their rows and history rows are committed. */
  create(count: number, name = "bench-noop", params: string | null = null): Promise<void> {
    return new Promise((acknowledge) => {
      for (let i = 1; i < count; i++)
        this.#creates.push({ id: Bun.randomUUIDv7(), name, params, acknowledge: () => {} });
      this.#creates.push({ id: Bun.randomUUIDv7(), name, params, acknowledge });
      this.#schedule();
    });
  }

  /** One new task; resolves with its id once it is committed. */
  createOne(name: string, params: string | null): Promise<string> {
    const id = Bun.randomUUIDv7();
    return new Promise((resolve) => {
      this.#creates.push({ id, name, params, acknowledge: () => resolve(id) });
      this.#schedule();
    });
  }

  get(id: string): LeanTaskRow | null {
    return this.#read.get(id);
  }

  /** Tasks waiting for a worker, and tasks on one. */
  counts(): { queued: number; running: number } {
    return {
      queued: this.#ready.length - this.#readyHead,
      running: this.#workers.length - this.#idle.length,
    };
  }

  finishedInStore(): number {
    const row = this.#db
      .query<{ n: number }, []>("SELECT count(*) AS n FROM tasks WHERE status = 'FINISHED'")
      .get();
    return row?.n ?? 0;
  }

  /** Commits what is waiting for its turn, ends the workers, and the writer thread once it has committed all it was sent. */
  async close(): Promise<void> {
    if (this.#scheduled) this.#turn();
    for (const worker of this.#workers) worker.terminate();
    const thread = this.#writerThread;
    if (thread) {
      const closed = new Promise<void>((resolve) => {
        thread.addEventListener("message", (event: MessageEvent<unknown>) => {
          if (event.data === "closed") resolve();
        });
      });
      const close: WriterControl = { type: "close" };
      thread.postMessage(close);
      await closed;
      thread.terminate();
    }
    this.#checkpointer?.stop();
    this.#db.close();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // On the main thread the turn's writes wait for its end, to share its commit. A writer thread
    // is handed them at once (what one request or worker message brought): it commits while this
    // thread reads the next requests, and joins what reaches it together into one commit itself;
    // with 16 requests in flight, about 6 % more a second than handing it a whole turn.
    if (this.#writerThread) queueMicrotask(() => this.#turn());
    else setImmediate(() => this.#turn());
  }

  /**
   * One batch for everything since the last: creates, ends, and the starts they make room for;
   * committed here on the main thread, or handed to the writer thread.
   */
  #turn(): void {
    this.#scheduled = false;
    const creates = this.#creates;
    const ends = this.#ends;
    // Nothing came since a close ran this turn early.
    if (creates.length === 0 && ends.length === 0) return;
    this.#creates = [];
    this.#ends = [];
    const batch: TurnBatch = { now: Date.now(), creates: [], ends: [], starts: [] };
    for (const { id, name, params } of creates) {
      batch.creates.push([id, name, params]);
      this.#ready.push(id);
    }
    for (const { worker, taskId } of ends) {
      batch.ends.push(taskId);
      this.#idle.push(worker);
    }
    // The batches are committed in the order sent, so a start is never committed before its create.
    const starts: Ended[] = [];
    while (this.#idle.length > 0 && this.#readyHead < this.#ready.length) {
      const taskId = this.#ready[this.#readyHead++] as string;
      batch.starts.push(taskId);
      starts.push({ worker: this.#idle.pop() as Worker, taskId });
    }
    if (this.#readyHead > 4_096 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready.splice(0, this.#readyHead);
      this.#readyHead = 0;
    }
    const afterCommit = () => {
      for (const create of creates) create.acknowledge();
      if (ends.length > 0) this.completed(ends.length);
      for (const { worker, taskId } of starts) {
        worker.postMessage(JSON.stringify({ ...RUN_MESSAGE, taskId, context: { taskId } }));
      }
    };
    if (this.#writerThread) {
      this.#inFlight.push(afterCommit);
      this.#writerThread.postMessage(JSON.stringify(batch));
      return;
    }
    this.#turnWriter?.write([batch]);
    afterCommit();
  }

  /** The writer thread committed the `count` oldest batches in flight. */
  #committed(count: number): void {
    for (let i = 0; i < count; i++) this.#inFlight[this.#inFlightHead++]?.();
    if (this.#inFlightHead > 1_024 && this.#inFlightHead * 2 > this.#inFlight.length) {
      this.#inFlight.splice(0, this.#inFlightHead);
      this.#inFlightHead = 0;
    }
  }
}
