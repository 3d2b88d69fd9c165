import { afterAll, afterEach } from "bun:test";
import { join } from "node:path";
import { SqliteTaskStore } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";

/**
 * For a test file of the SQLite store: `open()` gives a migrated store on a file of its own
 * (without the background checkpointer), closed after each test; the directory goes after all.
 */
export function sqliteStores(prefix: string): { open(): Promise<SqliteTaskStore> } {
  const dir = tempDir(prefix);
  const stores: SqliteTaskStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(() => dir.remove());
  return {
    async open() {
      const store = new SqliteTaskStore({
        path: join(dir.path, `${Bun.randomUUIDv7()}.db`),
        backgroundCheckpoints: false,
      });
      stores.push(store);
      await store.migrate();
      return store;
    },
  };
}
