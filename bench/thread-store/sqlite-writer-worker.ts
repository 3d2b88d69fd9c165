// The SQLite writer thread: it owns the one connection that writes the database file, and makes
// the calls the main thread sends it (sqlite-thread-store.ts) in the order they came, answering
// each message with the outcome of each of its calls. Nothing else runs here: its statements take
// none of the main thread's time (what the hand-over costs instead is in bench/HISTORY.md).
import { SqliteSyncStore, type SqliteSyncStoreOptions } from "../../src/store/sqlite.ts";
import {
  type FromWriter,
  type ToWriter,
  WRITER_CALLS,
  type WriterCommand,
  type WriterOutcome,
} from "./sqlite-writer-calls.ts";
import { decodeValue, encodeError, encodeValue } from "./thread-values.ts";

declare const self: Worker;

let store: SqliteSyncStore | undefined;
/** Why the file could not be opened: every call is answered with it. */
let openError: unknown;

function answer(message: FromWriter): void {
  self.postMessage(message);
}

/** Makes a batch's calls in order; a call that throws fails alone, and the next ones are made. */
function run(commands: WriterCommand[]): WriterOutcome[] {
  const outcomes: WriterOutcome[] = [];
  for (const [call, args] of commands) {
    try {
      if (!store) throw openError ?? new Error("the SQLite writer thread has no open database");
      const decoded = args.map((arg) => decodeValue(arg));
      outcomes.push([true, encodeValue(WRITER_CALLS[call](store, decoded))]);
    } catch (error) {
      outcomes.push([false, encodeError(error)]);
    }
  }
  return outcomes;
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const message = event.data;
  if (typeof message === "string") {
    answer(JSON.stringify(run(JSON.parse(message) as WriterCommand[])));
    return;
  }
  switch (message.type) {
    case "open":
      try {
        store = new SqliteSyncStore({
          ...(message.options as SqliteSyncStoreOptions),
          onCheckpointFallback: (error) => answer({ type: "checkpoint-fallback", error }),
        });
        answer({ type: "opened" });
      } catch (error) {
        openError = error;
        answer({ type: "failed", error: encodeError(error) });
      }
      return;
    case "close":
      try {
        store?.close();
        store = undefined;
        answer({ type: "closed" });
      } catch (error) {
        answer({ type: "closed", error: encodeError(error) });
      }
      return;
  }
};
