// A database kiln migrated, and SQLite's plan of a statement on it: for the tests that check
// which index a hot or a user-facing query reads.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { silentLogger, TaskManager } from "../../src/index.ts";

/** A file kiln made (its start migrates it), opened on a connection of the test's own. */
export async function migratedDatabase(dir: string): Promise<Database> {
  const path = join(dir, "kiln.db");
  const manager = new TaskManager({ db: path, logger: silentLogger });
  await manager.start();
  await manager.shutdown();
  return new Database(path);
}

/** The steps of `EXPLAIN QUERY PLAN` for `sql` with these parameters. */
export function queryPlan(db: Database, sql: string, params: readonly (string | number | null)[]): string[] {
  return db
    .query<{ detail: string }, (string | number | null)[]>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((row) => row.detail);
}
