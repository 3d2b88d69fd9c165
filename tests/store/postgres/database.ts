import postgres from "postgres";
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
