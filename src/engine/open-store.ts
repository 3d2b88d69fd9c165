import { DatabaseOwnerLock, SqliteTaskStore, type TaskStore } from "../store/index.ts";
import type { Logger } from "./logger.ts";
import type { TaskManagerOptions } from "./manager-options.ts";

/**
 * The store a TaskManager runs on: the SQLite file at `options.db`, opened (with its keys) under
 * the one-owner lock, or the store the caller opened. The lock is the caller's to release.
 */
export function openStore(
  options: Pick<TaskManagerOptions, "db" | "encryptionKey" | "decryptionKeys" | "durability">,
  logger: Logger,
): { store: TaskStore; ownerLock: DatabaseOwnerLock | undefined } {
  if (typeof options.db !== "string") {
    if (options.encryptionKey !== undefined || options.decryptionKeys?.length)
      throw new Error("encryption keys go to the store you opened, not to the TaskManager");
    if (options.durability !== undefined)
      throw new Error("durability goes to the store you opened, not to the TaskManager");
    return { store: options.db, ownerLock: undefined };
  }
  // Taken before the file is even opened: a second engine must not touch a live one's tasks.
  const ownerLock = options.db === ":memory:" ? undefined : DatabaseOwnerLock.acquire(options.db);
  try {
    const store = new SqliteTaskStore({
      path: options.db,
      encryptionKey: options.encryptionKey,
      decryptionKeys: options.decryptionKeys,
      durability: options.durability,
      onCheckpointFallback: (error) =>
        logger.warn("background WAL checkpoints failed; SQLite checkpoints on commit again", { error }),
    });
    return { store, ownerLock };
  } catch (error) {
    ownerLock?.release();
    throw error;
  }
}
