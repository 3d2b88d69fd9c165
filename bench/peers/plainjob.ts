// plainjob: an SQLite job queue on bun:sqlite, workers polling in this process.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { bun, defineQueue, defineWorker, JobStatus, type Queue, type Worker } from "plainjob";
import { packageVersion } from "./package-version.ts";
import type { Peer } from "./types.ts";

/**
 * plainjob's workers sleep this long whenever they find the queue empty (its default is 1,000 ms,
 * which would idle them between two enqueue chunks and measure the sleep, not the queue).
 */
const POLL_INTERVAL_MS = 10;
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

export function plainjobPeer(): Peer {
  let db: Database | undefined;
  let queue: Queue | undefined;
  let workers: Worker[] = [];
  const live = () => {
    if (!queue || !db) throw new Error("plainjob: setup() has not run");
    return { queue, db };
  };
  return {
    label: "plainjob",
    version: packageVersion("plainjob"),
    concurrencyNote: `worker loops in one thread (defineWorker × concurrency), polling every ${POLL_INTERVAL_MS} ms when idle`,
    unavailable: async () => null,
    async setup(ctx) {
      db = new Database(join(ctx.dir, "plainjob.db"), { strict: true });
      queue = defineQueue({ connection: bun(db), logger: quiet });
      const q = queue;
      workers = Array.from({ length: ctx.concurrency }, () =>
        defineWorker("bench-noop", async () => {}, {
          queue: q,
          logger: quiet,
          pollIntervall: POLL_INTERVAL_MS,
          // Called after markJobAsDone has committed.
          onCompleted: () => ctx.completed(),
        }),
      );
      for (const worker of workers) void worker.start();
    },
    enqueue() {
      live().queue.add("bench-noop", null);
      return undefined;
    },
    async durability() {
      const { db } = live();
      const journal = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode;
      const sync = db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous;
      const syncName = ["OFF", "NORMAL", "FULL", "EXTRA"][sync ?? -1] ?? String(sync);
      return {
        store: `SQLite file (${journal?.toUpperCase() ?? "?"})`,
        short: `SQLite ${journal?.toUpperCase() ?? "?"}, synchronous=${syncName}`,
        setting: `synchronous=${syncName} (read from its connection); add, claim and done each a transaction, no history`,
        acknowledgedBeforeDisk: false,
        note: "same guarantee as kiln: add() returns after the commit; an OS crash or power loss can roll back the last commits",
      };
    },
    async completedInStore() {
      return live().queue.countJobs({ status: JobStatus.Done });
    },
    async teardown() {
      await Promise.all(workers.map((worker) => worker.stop()));
      queue?.close();
    },
  };
}
