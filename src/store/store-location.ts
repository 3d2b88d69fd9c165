import { parseStoreLocation, type StoreLocation } from "./location.ts";
import type { PostgresClientOptions } from "./postgres/client.ts";
import type { SqliteSyncStoreOptions } from "./sqlite.ts";
import { SqliteTaskStore } from "./sqlite-store.ts";
import type { TaskStore } from "./task-store.ts";

export {
  parseStoreLocation,
  redactUrl,
  type StoreLocation,
  UnsupportedStoreLocationError,
} from "./location.ts";

export interface OpenStoreOptions
  extends Omit<SqliteSyncStoreOptions, "path">,
    Pick<PostgresClientOptions, "max" | "onNotice"> {}

/** The store for a location: a SQLite file or a PostgreSQL database. Not yet migrated. */
export async function openStore(
  location: StoreLocation | string,
  options: OpenStoreOptions = {},
): Promise<TaskStore> {
  const where = typeof location === "string" ? parseStoreLocation(location) : location;
  if (where.dialect === "sqlite") {
    const { max: _max, onNotice: _onNotice, ...sqlite } = options;
    return new SqliteTaskStore({ ...sqlite, path: where.path });
  }
  // Loaded only for PostgreSQL, so a SQLite kiln never loads the driver.
  const { PostgresTaskStore } = await import("./postgres/store.ts");
  return new PostgresTaskStore({
    url: where.url,
    encryptionKey: options.encryptionKey,
    decryptionKeys: options.decryptionKeys,
    max: options.max,
    onNotice: options.onNotice,
  });
}
