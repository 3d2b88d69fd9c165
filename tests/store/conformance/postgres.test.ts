import { afterAll } from "bun:test";
import { PostgresTaskStore, type TaskStore } from "../../../src/store/index.ts";
import { freshDatabase } from "../../support/postgres.ts";
import { type KeyOptions, runStoreSuite, type StoreUnderTest } from "./suite.ts";

const db = await freshDatabase("kiln_conformance");
if (db) {
  const url = db.url;
  // One connection of the tests' own, to empty the tables and to read what the store wrote.
  const admin = new Bun.SQL(url, { max: 1 });
  afterAll(() => admin.close());

  /** A PostgresTaskStore on this file's database, its tables emptied of the previous test's rows. */
  async function makePostgresStore(options: KeyOptions): Promise<StoreUnderTest> {
    const stores: TaskStore[] = [];
    const openStore = async (keys: KeyOptions) => {
      const store = new PostgresTaskStore({ url, ...keys });
      stores.push(store);
      await store.migrate();
      return store;
    };
    const close = async () => {
      for (const opened of stores) await opened.close();
    };
    try {
      const store = await openStore(options);
      await admin`TRUNCATE tasks, task_events, task_logs, schedules, schedule_fires, paused_task_types, rate_starts CASCADE`;
      return {
        store,
        async rawColumn(taskId, column) {
          const rows = await admin.unsafe(`SELECT ${column}::text AS value FROM tasks WHERE id = $1`, [
            taskId,
          ]);
          return (rows[0]?.value as string | null | undefined) ?? null;
        },
        async rawWrite(taskId, column, text) {
          const [column_] = await admin`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
            WHERE attrelid = 'tasks'::regclass AND attname = ${column}`;
          const type = String(column_?.type ?? "text");
          await admin.unsafe(`UPDATE tasks SET ${column} = $1::text::${type} WHERE id = $2`, [text, taskId]);
        },
        async rawScheduleParams(scheduleId) {
          const rows = await admin`SELECT params::text AS value FROM schedules WHERE id = ${scheduleId}`;
          return (rows[0]?.value as string | null | undefined) ?? null;
        },
        async rawScheduleWrite(scheduleId, text) {
          await admin`UPDATE schedules SET params = ${text}::text::json WHERE id = ${scheduleId}`;
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
