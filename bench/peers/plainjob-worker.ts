// One plainjob worker process, as plainjob's README sets up for high throughput (one per CPU,
// each with its own connection to the queue's file). Usage: bun plainjob-worker.ts <db> <NORMAL|FULL>
// Reports completions to its parent over IPC, gathered per event-loop turn; stops on "stop".
import { Database } from "bun:sqlite";
import { bun, defineQueue, defineWorker } from "plainjob";
import { PLAINJOB_POLL_MS, PLAINJOB_QUIET } from "./plainjob-settings.ts";

const [path, synchronous] = process.argv.slice(2);
if (!path || (synchronous !== "NORMAL" && synchronous !== "FULL") || !process.send) {
  console.error(
    "usage: bun bench/peers/plainjob-worker.ts <db> <NORMAL|FULL> (spawned by the peers scenario with IPC)",
  );
  process.exit(2);
}
const send = process.send.bind(process);
const db = new Database(path, { strict: true });
const queue = defineQueue({ connection: bun(db), logger: PLAINJOB_QUIET });
// defineQueue sets synchronous = 1 (NORMAL) on the connection; a FULL run raises it after.
db.exec(`PRAGMA synchronous = ${synchronous}`);
let pending = 0;
let scheduled = false;
const worker = defineWorker("bench-noop", async () => {}, {
  queue,
  logger: PLAINJOB_QUIET,
  pollIntervall: PLAINJOB_POLL_MS,
  // Called after markJobAsDone has committed.
  onCompleted: () => {
    pending++;
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      send(pending);
      pending = 0;
    });
  },
});
process.on("message", async (message) => {
  if (message !== "stop") return;
  await worker.stop();
  queue.close();
  process.exit(0);
});
// plainjob's loop rethrows the first error it meets (an SQLITE_BUSY, under synchronous=FULL) and
// ends; the process says why before it exits, and the run reports it.
worker.start().catch((error: unknown) => {
  console.error("plainjob worker loop ended:", error);
  process.exit(1);
});
send("ready");
