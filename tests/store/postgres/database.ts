import postgres from "postgres";
import { PostgresTaskStore } from "../../../src/store/index.ts";
import { createDatabase, type TestDatabase } from "../../support/postgres.ts";

/**
 * A database of its own for one test file, `kiln_pgstore_<random>`, on the test server
 * (KILN_TEST_POSTGRES_URL's, or a throwaway one started on first use); dropped by `drop()`.
 */
export function testDatabase(): Promise<TestDatabase> {
  return createDatabase("kiln_pgstore");
}

/** A plain connection to look under the store. */
export function rawClient(url: string): postgres.Sql {
  return postgres(url, { max: 2, onnotice: () => {} });
}

/** A migrated database of one test file, a store on it and a plain connection beside it. */
export interface StoreUnderTest {
  database: TestDatabase;
  store: PostgresTaskStore;
  raw: postgres.Sql;
  /** Closes the store and the connection, then drops the database. */
  close(): Promise<void>;
}

export async function storeUnderTest(): Promise<StoreUnderTest> {
  const database = await testDatabase();
  const store = new PostgresTaskStore({ url: database.url });
  await store.migrate();
  const raw = rawClient(database.url);
  return {
    database,
    store,
    raw,
    async close() {
      try {
        await store.close();
        await raw.end({ timeout: 1 });
      } finally {
        await database.drop();
      }
    },
  };
}
