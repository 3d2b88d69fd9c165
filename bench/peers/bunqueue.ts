// bunqueue in embedded mode: its queue manager and SQLite file in this process.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { Queue, shutdownManager, Worker } from "bunqueue/client";
import { packageVersion } from "./package-version.ts";
import type { Peer } from "./types.ts";

export interface BunqueueOptions {
  /** Per-job `durable: true`: written before add() returns instead of through the write buffer. */
  durable: boolean;
}

export function bunqueuePeer(options: BunqueueOptions): Peer {
  let dataPath: string | undefined;
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  const live = () => {
    if (!queue || !dataPath) throw new Error("bunqueue: setup() has not run");
    return { queue, dataPath };
  };
  const jobOptions = options.durable ? { durable: true } : undefined;
  return {
    label: options.durable ? "bunqueue (durable: true)" : "bunqueue",
    version: packageVersion("bunqueue"),
    concurrencyNote: "Worker concurrency option (jobs in flight in one thread)",
    unavailable: async () => null,
    async setup(ctx) {
      dataPath = join(ctx.dir, "bunqueue.db");
      queue = new Queue("bench-noop", { embedded: true, dataPath });
      worker = new Worker("bench-noop", async () => null, {
        embedded: true,
        dataPath,
        concurrency: ctx.concurrency,
      });
      // Emitted once the acknowledgement (its batched SQLite write) has been applied.
      worker.on("completed", () => ctx.completed());
    },
    enqueue() {
      return live().queue.add("noop", null, jobOptions);
    },
    async durability() {
      const db = new Database(live().dataPath, { readonly: true });
      try {
        const journal = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode;
        return {
          store: `SQLite file (${journal?.toUpperCase() ?? "?"})`,
          short: options.durable
            ? "SQLite WAL, synchronous=NORMAL"
            : "SQLite WAL, synchronous=NORMAL, buffered add()",
          setting: options.durable
            ? "synchronous=NORMAL (its PRAGMA_SETTINGS); add({durable: true}) written before it returns"
            : "synchronous=NORMAL (its PRAGMA_SETTINGS); add() goes to a write buffer flushed every 10 ms or 100 jobs",
          acknowledgedBeforeDisk: !options.durable,
          note: options.durable
            ? "like kiln: an OS crash or power loss can roll back the last commits"
            : "add() resolves before the job is written: a crash loses up to 10 ms / 100 buffered jobs, and more on power loss",
        };
      } finally {
        db.close();
      }
    },
    async completedInStore() {
      const db = new Database(live().dataPath, { readonly: true });
      try {
        return (
          db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE state = 'completed'").get()?.n ??
          0
        );
      } finally {
        db.close();
      }
    },
    async teardown() {
      await worker?.close();
      await queue?.close();
      // The embedded manager is a process-wide singleton; shutting it down flushes and closes the file.
      shutdownManager();
    },
  };
}
