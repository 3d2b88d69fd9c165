import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { SqliteSyncStoreOptions, TaskStore } from "../../../src/store/index.ts";
import { tempDir } from "../../helpers.ts";
import type { KeyOptions, StoreUnderTest } from "./suite.ts";

/**
 * Reads of one event-loop turn share a read snapshot (SqliteTaskStore#read), which ends with the
 * turn: another connection's write, or another store's close on the same file, is for the next
 * turn. kiln's owner lock keeps a second writer off a store's file; these tests open one anyway.
 */
const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A SQLite store of `open`'s kind on a real file of its own, in a temporary directory. */
export async function makeSqliteStore(
  options: KeyOptions,
  open: (options: SqliteSyncStoreOptions) => TaskStore,
): Promise<StoreUnderTest> {
  const dir = tempDir("kiln-conformance-");
  const path = join(dir.path, "kiln.db");
  const stores: TaskStore[] = [];
  const openStore = async (keys: KeyOptions) => {
    await turnEnd();
    const store = open({ path, ...keys });
    stores.push(store);
    await store.migrate();
    return store;
  };
  try {
    const store = await openStore(options);
    return {
      store,
      async rawColumn(taskId, column) {
        const db = new Database(path, { readonly: true });
        try {
          const row = db
            .query<Record<string, string | null>, [string]>(`SELECT ${column} FROM tasks WHERE id = ?`)
            .get(taskId);
          return row?.[column] ?? null;
        } finally {
          db.close();
        }
      },
      async rawWrite(taskId, column, text) {
        const db = new Database(path);
        try {
          db.query(`UPDATE tasks SET ${column} = ? WHERE id = ?`).run(text, taskId);
        } finally {
          db.close();
        }
        await turnEnd();
      },
      async rawScheduleParams(scheduleId) {
        const db = new Database(path, { readonly: true });
        try {
          const row = db
            .query<{ params: string | null }, [string]>("SELECT params FROM schedules WHERE id = ?")
            .get(scheduleId);
          return row?.params ?? null;
        } finally {
          db.close();
        }
      },
      async rawScheduleWrite(scheduleId, text) {
        const db = new Database(path);
        try {
          db.query("UPDATE schedules SET params = ? WHERE id = ?").run(text, scheduleId);
        } finally {
          db.close();
        }
        await turnEnd();
      },
      reopen: openStore,
      async dispose() {
        await turnEnd();
        for (const opened of stores) await opened.close();
        dir.remove();
      },
    };
  } catch (error) {
    dir.remove();
    throw error;
  }
}
