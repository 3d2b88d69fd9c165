import { statSync } from "node:fs";
import {
  DatabaseInUseError,
  DatabaseOwnerLock,
  SqliteSyncStore,
  SqliteTaskStore,
  type TaskStore,
} from "../../store/index.ts";
import type { Logger } from "../logger.ts";
import type { TaskManagerOptions } from "../manager-options.ts";

/**
 * The store a TaskManager runs on: the SQLite file at `options.db`, opened (with its keys) under
 * the one-owner lock, or the store the caller opened (`options.store`), which stays theirs. The
 * lock is the caller's to release.
 */
export function openStore(
  options: Pick<TaskManagerOptions, "db" | "store" | "encryptionKey" | "decryptionKeys" | "durability">,
  logger: Logger,
): { store: TaskStore; ownerLock: DatabaseOwnerLock | undefined; owned: boolean } {
  if (options.store !== undefined) {
    if (options.db !== undefined)
      throw new Error("give the TaskManager db (a SQLite path) or store, not both");
    if (options.encryptionKey !== undefined || options.decryptionKeys?.length)
      throw new Error("encryption keys go to the store you opened, not to the TaskManager");
    if (options.durability !== undefined)
      throw new Error("durability goes to the store you opened, not to the TaskManager");
    return { store: options.store, ownerLock: undefined, owned: false };
  }
  const path = options.db;
  if (typeof path !== "string")
    throw new Error("the TaskManager needs db (the path of a SQLite file) or store (a store you opened)");
  const sqlite = { ...options, db: path };
  if (path === ":memory:") return { store: openSqlite(sqlite, logger), ownerLock: undefined, owned: true };
  // Taken before SQLite opens the file: a second engine must not touch a live one's tasks.
  let ownerLock: DatabaseOwnerLock;
  try {
    ownerLock = DatabaseOwnerLock.acquire(path);
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw error;
    // The file cannot be opened (a missing directory, no permission): SQLite says why in its
    // own words, which the CLI reports. Should SQLite open it all the same, the engine still
    // never runs without the lock.
    openSqlite(sqlite, logger).file.close();
    throw error;
  }
  try {
    warnOfHardLinks(path, logger);
    return { store: openSqlite(sqlite, logger), ownerLock, owned: true };
  } catch (error) {
    ownerLock.release();
    throw error;
  }
}

/** The path of the SQLite file a TaskManager with these options uses, if it uses one. */
export function sqlitePathOf(options: Pick<TaskManagerOptions, "db" | "store">): string | undefined {
  if (typeof options.db === "string") return options.db;
  return options.store?.dialect === "sqlite" ? options.store.location : undefined;
}

/**
 * The owner lock keeps two engines off one file however it is reached, but SQLite names the
 * WAL after the path it opens: after a crash, opening the file by another hard link would not
 * see the WAL, and what it held would be lost. Worth a word while the file has other links.
 */
function warnOfHardLinks(path: string, logger: Logger): void {
  const links = statSync(path).nlink;
  if (links <= 1) return;
  logger.warn("the database file has other hard links: always open it by the same path", {
    db: path,
    links,
    why: "SQLite keeps the WAL beside the path it was opened by; after a crash another link would not see it",
  });
}

function openSqlite(
  options: Pick<TaskManagerOptions, "encryptionKey" | "decryptionKeys" | "durability"> & { db: string },
  logger: Logger,
): SqliteTaskStore {
  return new SqliteTaskStore(
    new SqliteSyncStore({
      path: options.db,
      encryptionKey: options.encryptionKey,
      decryptionKeys: options.decryptionKeys,
      durability: options.durability,
      onCheckpointFallback: (error) =>
        logger.warn("background WAL checkpoints failed; SQLite checkpoints on commit again", { error }),
    }),
  );
}
