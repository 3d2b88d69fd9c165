// The stores a test file can run over: SQLite (a file in the test's temp dir, the engine's
// default) and PostgreSQL (a database of its own on the test server, dropped afterwards).
import { type KeyMaterial, PostgresTaskStore, type TaskManagerOptions } from "../src/index.ts";

import { testDatabase } from "./store/postgres/database.ts";

export const STORE_KINDS = ["sqlite", "postgres"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface StoreOptions {
  /** What to give the TaskManager (or startServer / startManager): nothing for SQLite, a store for PostgreSQL. */
  options: Partial<TaskManagerOptions>;
  /** After the manager's shutdown: closes the store and drops its database. */
  close: () => Promise<void>;
  /** The PostgreSQL database's URL (to look under the store); undefined on SQLite. */
  url?: string;
}

/** Manager options for a store of `kind`, fresh and empty, with values encrypted under `encryptionKey` if given. */
export async function makeStoreOptions(
  kind: StoreKind,
  { encryptionKey }: { encryptionKey?: KeyMaterial } = {},
): Promise<StoreOptions> {
  if (kind === "sqlite") return { options: encryptionKey ? { encryptionKey } : {}, close: async () => {} };
  const database = await testDatabase();
  const store = new PostgresTaskStore({ url: database.url, max: 4, encryptionKey });
  try {
    await store.acquireOwnerLock();
  } catch (error) {
    await store.close();
    await database.drop();
    throw error;
  }
  return {
    options: { store },
    url: database.url,
    close: async () => {
      try {
        await store.close();
      } finally {
        await database.drop();
      }
    },
  };
}
