// The contract alone (engine.ts) as a system of the peers' driver, so that it meets the same
// workload as kiln and its peers.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { migrateWith } from "../child-run.ts";
import type { Peer } from "../peers/types.ts";
import { LeanEngine, type LeanWriter } from "./engine.ts";

const ROOT = join(import.meta.dir, "..", "..");

export function leanPeer(concurrency = availableParallelism(), writer: LeanWriter = "main"): Peer {
  let engine: LeanEngine | undefined;
  const live = () => {
    if (!engine) throw new Error("lean: setup() has not run");
    return engine;
  };
  return {
    label: `the contract alone, ${concurrency} workers${writer === "thread" ? ", writer thread" : ""}`,
    version: "-",
    settings: `${concurrency} Bun Workers, one task each at a time; one commit an event-loop turn${writer === "thread" ? ", made on a writer thread" : ""}`,
    why: "the least any engine keeping kiln's contract does, on kiln's schema and statements",
    unavailable: async () => null,
    async setup(ctx) {
      const path = join(ctx.dir, "lean.db");
      await migrateWith(ROOT, path);
      engine = new LeanEngine(path, concurrency, (count) => ctx.completed(count), { writer });
    },
    enqueue: () => live().create(1),
    enqueueMany: (count) => live().create(count),
    durability: async () => ({
      level: "process-crash",
      short: "SQLite WAL, synchronous=NORMAL",
      setting: "journal_mode=wal, synchronous=NORMAL",
      note: "a commit is in the OS before it is announced; a power loss can lose the last ones",
    }),
    completedInStore: async () => live().finishedInStore(),
    async teardown() {
      await engine?.close();
      engine = undefined;
    },
  };
}
