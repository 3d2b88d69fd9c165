// The contract alone's SQLite writer on a thread of its own (engine.ts with `writer: "thread"`):
// the main thread sends what each request or worker message brought as a batch of JSON text; this
// thread commits the batches that arrived together in one transaction (its own group commit), in the order sent, and answers how
// many it committed. Its WAL checkpoints run on a further thread, as kiln's do.
import { Database } from "bun:sqlite";
import type { WalCheckpointer } from "../../src/store/wal-checkpointer.ts";
import { useKilnPragmas } from "../engine-statements.ts";
import { leanCheckpointer, type TurnBatch, TurnWriter } from "./turn-writer.ts";

/** What the engine sends besides batches. */
export type WriterControl = { type: "open"; path: string; splitCreates: boolean } | { type: "close" };

declare const self: Worker;

let db: Database | undefined;
let writer: TurnWriter | undefined;
let checkpointer: WalCheckpointer | undefined;
let queued: TurnBatch[] = [];
let scheduled = false;

function commitQueued(): void {
  scheduled = false;
  if (queued.length === 0) return;
  const batches = queued;
  queued = [];
  if (!writer) throw new Error("the writer thread got a batch before it was opened");
  writer.write(batches);
  postMessage(batches.length);
}

self.onmessage = (event: MessageEvent<string | WriterControl>) => {
  const data = event.data;
  if (typeof data === "string") {
    queued.push(JSON.parse(data) as TurnBatch);
    if (!scheduled) {
      scheduled = true;
      setImmediate(commitQueued);
    }
    return;
  }
  if (data.type === "open") {
    const opened = new Database(data.path);
    useKilnPragmas(opened);
    db = opened;
    writer = new TurnWriter(opened, data.splitCreates);
    checkpointer = leanCheckpointer(opened, data.path);
    postMessage("opened");
    return;
  }
  // Batches that arrived before the close are committed first, as they were sent first.
  commitQueued();
  checkpointer?.stop();
  db?.close();
  db = undefined;
  writer = undefined;
  postMessage("closed");
};
