// What one event-loop turn of the contract alone writes (engine.ts), and the statements that write
// it: shared by the engine that commits on its main thread and by its writer thread
// (writer-thread.ts), so that the two run the same SQL.
import type { Database } from "bun:sqlite";
import { SqliteEventBuffer } from "../../src/store/sqlite-event-buffer.ts";
import { END, historyRow, INSERT_TASK, START } from "../engine-statements.ts";

/** A turn's creates ([id, name, params JSON]), the ends its worker messages brought, the starts it made room for. */
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
