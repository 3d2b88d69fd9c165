// The contract alone: a task engine with nothing in it but what kiln promises of every task.
//   - a task is acknowledged once its row and its `create` history row are committed;
//   - it starts on a Bun Worker that runs one task at a time, and its worker hears of it only once
//     its RUNNING row and history row are committed;
//   - its end is committed, with its history row, before anyone hears of it;
//   - the writes of one event-loop turn share one commit (creates, ends and the next starts
//     together, which kiln splits in two), on kiln's own schema and statements, with kiln's
//     PRAGMAs and its WAL checkpoints on another thread.
// No lanes, no fences, no counts, no events to subscribers, no telemetry, no checks of what a
// worker sends, no retries: what it runs at is what any design that keeps the contract could
// reach on this machine, before it does any of the rest.
import { Database } from "bun:sqlite";
import { SqliteEventBuffer } from "../../src/store/sqlite-event-buffer.ts";
import { WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { ECHO_WORKER, END, historyRow, INSERT_TASK, START, useKilnPragmas } from "../engine-statements.ts";
import { RUN_MESSAGE } from "../run-message.ts";

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

export class LeanEngine {
  readonly #db: Database;
  readonly #insert;
  readonly #start;
  readonly #end;
  readonly #read;
  readonly #events: SqliteEventBuffer;
  readonly #checkpointer: WalCheckpointer;
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
    /**
     * Commit a turn's creates apart from its ends and starts, as kiln does (its creates and its
     * worker messages each have a group commit of their own): what one commit a turn saves.
     */
    private readonly splitCreates = false,
  ) {
    this.#db = new Database(path);
    useKilnPragmas(this.#db);
    this.#insert = this.#db.prepare(INSERT_TASK);
    this.#start = this.#db.prepare(START);
    this.#end = this.#db.prepare(END);
    this.#read = this.#db.prepare<LeanTaskRow, [string]>(
      "SELECT id, task_name, status, params, result, created_at, start_time, end_time FROM tasks WHERE id = ?",
    );
    this.#events = new SqliteEventBuffer(this.#db);
    this.#checkpointer = new WalCheckpointer({
      path,
      onRestartWanted: () => this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)"),
      onFailure: (error) => {
        throw new Error(`the WAL checkpointer failed: ${error}`);
      },
    });
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

  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#checkpointer.stop();
    this.#db.close();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#turn());
  }

  /** One commit for everything this turn brought: creates, ends, and the starts they make room for. */
  #turn(): void {
    this.#scheduled = false;
    const creates = this.#creates;
    const ends = this.#ends;
    this.#creates = [];
    this.#ends = [];
    const starts: Ended[] = [];
    const now = Date.now();
    this.#db.exec("BEGIN");
    for (const { id, name, params } of creates) {
      this.#insert.run(id, name, "PENDING", params, 0, null, null, null, null, null, null, now, now);
      this.#events.add(id, now, historyRow(null, "PENDING", "create"));
      this.#ready.push(id);
    }
    if (this.splitCreates && creates.length > 0 && (ends.length > 0 || this.#idle.length > 0)) {
      this.#events.flush();
      this.#db.exec("COMMIT");
      this.#db.exec("BEGIN");
    }
    for (const { worker, taskId } of ends) {
      this.#end.run("FINISHED", "null", now, null, null, null, 0, now, taskId, "RUNNING");
      this.#events.add(taskId, now, historyRow("RUNNING", "FINISHED", "finish"));
      this.#idle.push(worker);
    }
    while (this.#idle.length > 0 && this.#readyHead < this.#ready.length) {
      const taskId = this.#ready[this.#readyHead++] as string;
      this.#start.run("RUNNING", now, null, null, null, now, now, taskId, "PENDING");
      this.#events.add(taskId, now, historyRow("PENDING", "RUNNING", "start"));
      starts.push({ worker: this.#idle.pop() as Worker, taskId });
    }
    if (this.#readyHead > 4_096 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready.splice(0, this.#readyHead);
      this.#readyHead = 0;
    }
    this.#events.flush();
    this.#db.exec("COMMIT");
    for (const create of creates) create.acknowledge();
    if (ends.length > 0) this.completed(ends.length);
    for (const { worker, taskId } of starts) {
      worker.postMessage(JSON.stringify({ ...RUN_MESSAGE, taskId, context: { taskId } }));
    }
  }
}
