// plainjob: an SQLite job queue on bun:sqlite. Its README shows one worker in the process that
// enqueues, and, "for high-throughput scenarios", one worker process per CPU: both are run.
import { Database } from "bun:sqlite";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { bun, defineQueue, defineWorker, JobStatus, type Queue, type Worker } from "plainjob";
import { LEVEL_WORDS, sqliteLevel } from "./durability-level.ts";
import { packageVersion } from "./package-version.ts";
import { PLAINJOB_POLL_MS, PLAINJOB_QUIET } from "./plainjob-settings.ts";
import type { Peer } from "./types.ts";

const WORKER_SCRIPT = Bun.fileURLToPath(new URL("./plainjob-worker.ts", import.meta.url));
const WORKER_START_MS = 30_000;

export interface PlainjobOptions {
  /** Worker processes; 0: worker loops in this process. */
  processes: number;
  synchronous: "NORMAL" | "FULL";
}

/** Worker loops in the enqueuing process when there are no worker processes. */
const IN_PROCESS_WORKERS = 4;

export const plainjobProcesses = () => availableParallelism();

export function plainjobPeer(options: PlainjobOptions): Peer {
  let db: Database | undefined;
  let queue: Queue | undefined;
  let workers: Worker[] = [];
  let children: Bun.Subprocess[] = [];
  /** Exit codes of worker processes that ended before teardown asked them to. */
  const earlyExits: Array<number | null> = [];
  let stopping = false;
  const live = () => {
    if (!queue || !db) throw new Error("plainjob: setup() has not run");
    return { queue, db };
  };
  const full = options.synchronous === "FULL";
  const layout =
    options.processes > 0
      ? `${options.processes} worker processes`
      : `${IN_PROCESS_WORKERS} worker loops in-process`;
  return {
    label: `plainjob${full ? " synchronous=FULL" : ""}, ${layout}`,
    version: packageVersion("plainjob"),
    settings: `${layout}, polling every ${PLAINJOB_POLL_MS} ms when idle; add() per job, addMany() for a bulk${full ? "; synchronous=FULL set on every connection after defineQueue" : ""}`,
    why:
      options.processes > 0
        ? "its README's setup for high throughput: one worker process per CPU on the same file"
        : `its README's setup, a worker in the process that enqueues (${IN_PROCESS_WORKERS} loops, as in earlier runs: a loop runs one job at a time)`,
    unavailable: async () => null,
    async setup(ctx) {
      const path = join(ctx.dir, "plainjob.db");
      db = new Database(path, { strict: true });
      queue = defineQueue({ connection: bun(db), logger: PLAINJOB_QUIET });
      if (full) db.exec("PRAGMA synchronous = FULL");
      const q = queue;
      if (options.processes === 0) {
        workers = Array.from({ length: IN_PROCESS_WORKERS }, () =>
          defineWorker("bench-noop", async () => {}, {
            queue: q,
            logger: PLAINJOB_QUIET,
            pollIntervall: PLAINJOB_POLL_MS,
            // Called after markJobAsDone has committed.
            onCompleted: () => ctx.completed(),
          }),
        );
        for (const worker of workers) void worker.start();
        return;
      }
      const ready: Promise<void>[] = [];
      stopping = false;
      earlyExits.length = 0;
      children = Array.from({ length: options.processes }, () => {
        let markReady = () => {};
        ready.push(new Promise<void>((resolve) => (markReady = resolve)));
        const child = Bun.spawn([process.execPath, WORKER_SCRIPT, path, options.synchronous], {
          stdio: ["ignore", "ignore", "inherit"],
          ipc(message) {
            if (message === "ready") markReady();
            else if (typeof message === "number") ctx.completed(message);
          },
        });
        void child.exited.then((code) => {
          if (!stopping) earlyExits.push(code);
        });
        return child;
      });
      const started = await Promise.race([
        Promise.all(ready).then(() => true),
        Bun.sleep(WORKER_START_MS).then(() => false),
      ]);
      if (!started) throw new Error(`plainjob worker processes did not start within ${WORKER_START_MS} ms`);
    },
    enqueue() {
      live().queue.add("bench-noop", null);
      return undefined;
    },
    enqueueMany(count) {
      live().queue.addMany("bench-noop", new Array(count).fill(null));
      return undefined;
    },
    async durability() {
      const { db } = live();
      const journal =
        db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode ?? "?";
      const sync = db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous;
      const syncName = ["OFF", "NORMAL", "FULL", "EXTRA"][sync ?? -1] ?? String(sync);
      const level = sqliteLevel(journal, syncName);
      return {
        level,
        short: `SQLite ${journal.toUpperCase()}, synchronous=${syncName}`,
        setting: `journal_mode=${journal}, synchronous=${syncName} (read from the enqueuing connection${options.processes > 0 ? `; the worker processes set ${options.synchronous} on theirs` : ""}); add, claim and done each a transaction, no history`,
        note: `add() returns after its commit: ${LEVEL_WORDS[level]}`,
      };
    },
    async completedInStore() {
      return live().queue.countJobs({ status: JobStatus.Done });
    },
    async teardown() {
      stopping = true;
      await Promise.all(workers.map((worker) => worker.stop()));
      // A process that already ended cannot be sent anything; the others are still stopped.
      for (const child of children) if (child.exitCode === null && !child.killed) child.send("stop");
      await Promise.race([Promise.all(children.map((child) => child.exited)), Bun.sleep(10_000)]);
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      queue?.close();
      if (earlyExits.length > 0) {
        throw new Error(
          `${earlyExits.length} plainjob worker process(es) ended during the run (exit code ${earlyExits.join(", ")})`,
        );
      }
    },
  };
}
