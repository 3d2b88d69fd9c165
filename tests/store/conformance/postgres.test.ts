import { afterAll, test } from "bun:test";
import type { TaskStore } from "../../../src/store/index.ts";
import * as storeModule from "../../../src/store/index.ts";
import { freshDatabase } from "../../support/postgres.ts";
import { type KeyOptions, runStoreSuite, type StoreUnderTest } from "./suite.ts";

type PostgresStoreClass = new (options: { url: string; max?: number } & KeyOptions) => TaskStore;
// Looked up by name until the PostgreSQL store is exported: without it, this file fails by name.
const PostgresTaskStore = (storeModule as Record<string, unknown>).PostgresTaskStore as
  | PostgresStoreClass
  | undefined;

const db = await freshDatabase("kiln_conformance");
if (!PostgresTaskStore) {
  test("PostgresTaskStore is exported from src/store/index.ts", () => {
    throw new Error(
      "src/store/index.ts exports no PostgresTaskStore: the conformance suite cannot run on it",
    );
  });
} else if (db) {
  const Store = PostgresTaskStore;
  const url = db.url;
  // One connection of the tests' own, to empty the tables and to read what the store wrote.
  const admin = new Bun.SQL(url, { max: 1 });
  afterAll(() => admin.close());

  /** A PostgresTaskStore on this file's database, its tables emptied of the previous test's rows. */
  async function makePostgresStore(options: KeyOptions): Promise<StoreUnderTest> {
    const stores: TaskStore[] = [];
    const openStore = async (keys: KeyOptions) => {
      const store = new Store({ url, ...keys });
      stores.push(store);
      await store.migrate();
      return store;
    };
    const close = async () => {
      for (const opened of stores) await opened.close();
    };
    try {
      const store = await openStore(options);
      await admin`TRUNCATE tasks, task_events, task_logs CASCADE`;
      return {
        store,
        async rawColumn(taskId, column) {
          const rows = await admin.unsafe(`SELECT ${column}::text AS value FROM tasks WHERE id = $1`, [
            taskId,
          ]);
          return (rows[0]?.value as string | null | undefined) ?? null;
        },
        reopen: openStore,
        dispose: close,
      };
    } catch (error) {
      await close();
      throw error;
    }
  }

  runStoreSuite("PostgresTaskStore", makePostgresStore);
}
