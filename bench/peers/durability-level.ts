// What a setting read from a running system means for an acknowledged job: the same judgement
// for every peer, so the tables compare systems that promise the same.
import type { DurabilityLevel } from "./types.ts";

/**
 * SQLite: with synchronous FULL or EXTRA a commit is fsynced before it returns; below that (WAL
 * with NORMAL, or OFF) it is written to the OS but not flushed. Without a journal on disk
 * (OFF, MEMORY) a crash mid-commit can corrupt the file.
 */
export function sqliteLevel(journalMode: string, synchronous: string): DurabilityLevel {
  const journal = journalMode.toLowerCase();
  if (journal === "off" || journal === "memory") return "none";
  return synchronous === "FULL" || synchronous === "EXTRA" ? "power-loss" : "process-crash";
}

/**
 * PostgreSQL: synchronous_commit off acknowledges before the WAL is written; on (or local,
 * remote_write, remote_apply) waits for the local WAL flush, which reaches the disk only with
 * fsync on.
 */
export function postgresLevel(synchronousCommit: string, fsync: string): DurabilityLevel {
  if (synchronousCommit === "off") return "none";
  return fsync === "on" ? "power-loss" : "process-crash";
}

/**
 * Redis: without the append-only file a job lives in memory until the next snapshot, if any;
 * with it, the write reaches the file before the reply (process-crash safe) and is fsynced
 * before the reply only with appendfsync always.
 */
export function redisLevel(appendonly: string, appendfsync: string): DurabilityLevel {
  if (appendonly !== "yes") return "none";
  return appendfsync === "always" ? "power-loss" : "process-crash";
}

export const LEVEL_WORDS: Record<DurabilityLevel, string> = {
  "power-loss": "survives a power loss",
  "process-crash": "survives a process crash, not a power loss",
  none: "acknowledged before it is written",
};
