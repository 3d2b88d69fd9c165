// bunqueue in embedded mode: its queue manager and SQLite file in this process.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { Queue, shutdownManager, Worker } from "bunqueue/client";
// The embedded manager's own module (not in the package's exports map): the same instance the
// client uses, whose SQLite connection is the one that says what a commit survives.
import { getSharedManager } from "../../node_modules/bunqueue/dist/client/manager.js";
import { LEVEL_WORDS, sqliteLevel } from "./durability-level.ts";
import { packageVersion } from "./package-version.ts";
import type { Peer } from "./types.ts";

/** bunqueue's own benchmark drains a queue with worker concurrency 50. */
const CONCURRENCY = 50;

export interface BunqueueOptions {
  /** Per-job `durable: true`: written before add() returns instead of through the write buffer. */
  durable: boolean;
}

function pragma(db: Database, name: string): string {
  const row = db.query<Record<string, string | number>, []>(`PRAGMA ${name}`).get();
  return String(row?.[name] ?? "?");
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
  /** Its connection, reached through internals: null if a later version moves it. */
  const connection = (): Database | null => {
    // An internal field, not typed by the package.
    const manager = getSharedManager(live().dataPath) as unknown as { storage?: { db?: Database } };
    return manager.storage?.db ?? null;
  };
  return {
    label: options.durable ? "bunqueue (durable: true)" : "bunqueue",
    version: packageVersion("bunqueue"),
    settings: `embedded, Worker concurrency ${CONCURRENCY}; add() per job, addBulk() for a bulk${options.durable ? ", each job with durable: true" : ""}`,
    why: `its README's worker-drain benchmark runs concurrency ${CONCURRENCY}; addBulk is its documented bulk call`,
    unavailable: async () => null,
    async setup(ctx) {
      dataPath = join(ctx.dir, "bunqueue.db");
      queue = new Queue("bench-noop", { embedded: true, dataPath });
      worker = new Worker("bench-noop", async () => null, {
        embedded: true,
        dataPath,
        concurrency: CONCURRENCY,
      });
      // Emitted once the acknowledgement (its batched SQLite write) has been applied.
      worker.on("completed", () => ctx.completed());
    },
    enqueue() {
      return live().queue.add("noop", null, jobOptions);
    },
    enqueueMany(count) {
      return live().queue.addBulk(
        Array.from({ length: count }, () => ({
          name: "noop",
          data: null,
          ...(jobOptions ? { opts: jobOptions } : {}),
        })),
      );
    },
    async durability() {
      const db = connection();
      const journal = db ? pragma(db, "journal_mode") : "?";
      const sync = db ? (["OFF", "NORMAL", "FULL", "EXTRA"][Number(pragma(db, "synchronous"))] ?? "?") : "?";
      const level = options.durable ? sqliteLevel(journal, sync) : "none";
      return {
        level,
        short: `SQLite ${journal.toUpperCase()}, synchronous=${sync}${options.durable ? "" : ", buffered add()"}`,
        setting: `journal_mode=${journal}, synchronous=${sync} (${db ? "read from its connection" : "its connection was not reachable"}); ${
          options.durable
            ? "add({ durable: true }) is written before it returns"
            : "add() goes to a write buffer flushed every 10 ms or 100 jobs"
        }`,
        note: options.durable
          ? `add() returns after its commit: ${LEVEL_WORDS[level]}`
          : "add() resolves before the job is written: a crash loses the buffered jobs",
      };
    },
    async completedInStore() {
      const db = connection();
      if (!db) return -1;
      return (
        db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE state = 'completed'").get()?.n ?? 0
      );
    },
    async teardown() {
      await worker?.close();
      await queue?.close();
      // The embedded manager is a process-wide singleton; shutting it down flushes and closes the file.
      shutdownManager();
    },
  };
}
