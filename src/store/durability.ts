import type { Database } from "bun:sqlite";

/**
 * What an acknowledged write survives. "normal" (`PRAGMA synchronous = NORMAL` in WAL mode): a
 * commit is in the WAL file before it returns, so a crash of the process loses nothing, but the
 * WAL is fsynced only at checkpoints, so a power loss or an OS crash can roll back the last
 * commits. "full" (`PRAGMA synchronous = FULL`): every commit fsyncs the WAL before it returns,
 * so it survives a power loss too; group commit spreads that fsync over the writes of a turn.
 */
export type Durability = "normal" | "full";
export const DURABILITIES = ["normal", "full"] as const satisfies readonly Durability[];

/** The connection's settings that decide what a commit survives, as SQLite reports them. */
export interface DurabilitySettings {
  /** `PRAGMA journal_mode`, e.g. "wal". */
  journalMode: string;
  /** `PRAGMA synchronous` by name: "OFF", "NORMAL", "FULL" or "EXTRA". */
  synchronous: string;
}

const SYNCHRONOUS_NAMES = ["OFF", "NORMAL", "FULL", "EXTRA"];

/** Sets `synchronous` on a connection for `durability` (default "normal"). */
export function applyDurability(db: Database, durability: Durability | undefined): void {
  db.exec(`PRAGMA synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
}

/** Read from the connection itself: `synchronous` is a setting of each connection, not of the file. */
export function readDurabilitySettings(db: Database): DurabilitySettings {
  const journal = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get();
  const sync = db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous;
  return {
    journalMode: journal?.journal_mode ?? "?",
    synchronous: SYNCHRONOUS_NAMES[sync ?? -1] ?? String(sync),
  };
}
