// kiln itself, through the TaskManager API, under the same driver as its peers: `submit()` per
// job (the calls of one chunk share a commit, like an async peer's calls in flight together) or
// `submitMany()` for a bulk, at its defaults or with more worker threads, with either durability.
import { join } from "node:path";
import packageJson from "../../package.json";
import { type Durability as KilnDurability, silentLogger, TaskManager } from "../../src/index.ts";
import { TASKS_URL } from "../util.ts";
import { LEVEL_WORDS, sqliteLevel } from "./durability-level.ts";
import type { Peer } from "./types.ts";

export interface KilnPeerOptions {
  /** Worker threads; undefined: the TaskManager default (CPU cores, at least 2). */
  concurrency: number | undefined;
  durability: KilnDurability;
}

/** Worker threads of kiln's "best" configuration: the best of the throughput scenario's sweep (2, 4, 8) on 2 cores. */
export const KILN_BEST_CONCURRENCY = 8;

export function kilnPeer(options: KilnPeerOptions): Peer {
  let manager: TaskManager | undefined;
  const live = () => {
    if (!manager) throw new Error("kiln: setup() has not run");
    return manager;
  };
  const best = options.concurrency !== undefined;
  const full = options.durability === "full";
  return {
    label: `kiln${full ? " --durability full" : ""}${best ? `, ${options.concurrency} workers` : ", defaults"}`,
    version: `kiln@${packageJson.version}`,
    settings: `${best ? `concurrency ${options.concurrency}` : "TaskManager defaults (concurrency = CPU cores, at least 2)"}, durability ${options.durability}; submit() per job, submitMany() for a bulk`,
    why: best
      ? `the best concurrency of the throughput scenario's sweep (2, 4, 8 worker threads) on this 2-core machine; submitMany() is kiln's bulk call, one commit for the list`
      : "what `new TaskManager({ db })` does with nothing else set",
    unavailable: async () => null,
    async setup(ctx) {
      manager = new TaskManager({
        db: join(ctx.dir, "kiln.db"),
        durability: options.durability,
        ...(best ? { concurrency: options.concurrency } : {}),
        logger: silentLogger,
      });
      await manager.load(TASKS_URL);
      await manager.start();
      // Emitted after the FINISHED row and its history event are committed.
      manager.subscribe((event) => {
        if (event.type === "transition" && event.to === "FINISHED") ctx.completed();
      });
    },
    enqueue() {
      return live().submit("bench-noop", null);
    },
    enqueueMany(count) {
      return live().submitMany("bench-noop", new Array(count).fill(null));
    },
    async durability() {
      const read = live().durabilitySettings();
      const journal = read?.journalMode ?? "?";
      const sync = read?.synchronous ?? "?";
      const level = sqliteLevel(journal, sync);
      return {
        level,
        short: `SQLite ${journal.toUpperCase()}, synchronous=${sync}`,
        setting: `journal_mode=${journal}, synchronous=${sync} (read from the store's connection); a history row per transition`,
        note: `submit() resolves and FINISHED is announced after the commit: ${LEVEL_WORDS[level]}`,
      };
    },
    async completedInStore() {
      return (await live().store.countByStatus()).FINISHED;
    },
    async teardown() {
      await manager?.shutdown();
    },
  };
}
