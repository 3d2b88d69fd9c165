// What one batch of the contract alone writes (engine.ts: a turn's on its main thread, a request's
// or a worker message's on its writer thread), and the statements that write it: shared by both,
// so that the two run the same SQL.
import type { Database } from "bun:sqlite";
import { SqliteEventBuffer } from "../../src/store/sqlite-event-buffer.ts";
import { WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { END, historyRow, INSERT_TASK, START } from "../engine-statements.ts";

/** A batch's creates ([id, name, params JSON]), the ends its worker messages brought, the starts it made room for. */
export interface TurnBatch {
  now: number;
  creates: Array<[string, string, string | null]>;
  ends: string[];
  starts: string[];
}

export class TurnWriter {
  readonly #db: Database;
  readonly #insert;
  readonly #start;
  readonly #end;
  readonly #events: SqliteEventBuffer;

  constructor(
    db: Database,
    /** Commit a turn's creates apart from its ends and starts (see engine.ts). */
    private readonly splitCreates = false,
  ) {
    this.#db = db;
    this.#insert = db.prepare(INSERT_TASK);
    this.#start = db.prepare(START);
    this.#end = db.prepare(END);
    this.#events = new SqliteEventBuffer(db);
  }

  /** Writes the batches in one transaction (two a batch with `splitCreates`), in their order. */
  write(batches: readonly TurnBatch[]): void {
    this.#db.exec("BEGIN");
    for (const { now, creates, ends, starts } of batches) {
      for (const [id, name, params] of creates) {
        this.#insert.run(id, name, "PENDING", params, 0, null, null, null, null, null, null, now, now);
        this.#events.add(id, now, historyRow(null, "PENDING", "create"));
      }
      if (this.splitCreates && creates.length > 0 && (ends.length > 0 || starts.length > 0)) {
        this.#events.flush();
        this.#db.exec("COMMIT");
        this.#db.exec("BEGIN");
      }
      for (const taskId of ends) {
        this.#end.run("FINISHED", "null", now, null, null, null, 0, now, taskId, "RUNNING");
        this.#events.add(taskId, now, historyRow("RUNNING", "FINISHED", "finish"));
      }
      for (const taskId of starts) {
        this.#start.run("RUNNING", now, null, null, null, now, now, taskId, "PENDING");
        this.#events.add(taskId, now, historyRow("PENDING", "RUNNING", "start"));
      }
    }
    this.#events.flush();
    this.#db.exec("COMMIT");
  }
}

/** The WAL checkpoints of the connection that writes `path`, on a thread of their own, as kiln's. */
export function leanCheckpointer(db: Database, path: string): WalCheckpointer {
  return new WalCheckpointer({
    path,
    onRestartWanted: () => db.exec("PRAGMA wal_checkpoint(PASSIVE)"),
    onFailure: (error) => {
      throw new Error(`the WAL checkpointer failed: ${error}`);
    },
  });
}
