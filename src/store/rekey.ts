import { Database } from "bun:sqlite";
import { DatabaseOwnerLock } from "./owner-lock.ts";
import { scheduleSecretContext } from "./schedule-rows.ts";
import type { SealedJson } from "./sealed-json.ts";
import { rowCodec, type SqliteSyncStoreOptions } from "./sqlite.ts";
import { SECRET_FIELDS, TASK_COLUMNS } from "./task-rows.ts";

export interface RekeyReport {
  /** Tasks read. */
  scanned: number;
  /** Tasks with at least one value written again under the current key. */
  rewritten: number;
  /** Transactions committed over tasks. */
  batches: number;
  /** Schedules read, and those whose params were written again (all in one transaction: they are few). */
  schedules: { scanned: number; rewritten: number };
}

/** A schedule's stored params, or null when it has none. */
export type ScheduleSecretRow = { id: string; params: string | null };

/**
 * The params of each schedule that is not under the current key yet, as they are to be
 * stored now: what a rekey writes back, by schedule id.
 */
export function resealedSchedules(
  sealed: SealedJson,
  rows: readonly ScheduleSecretRow[],
): { id: string; params: string }[] {
  return rows.flatMap(({ id, params }) =>
    params === null || sealed.isCurrent(params)
      ? []
      : [{ id, params: sealed.reseal(params, scheduleSecretContext(id)) }],
  );
}

export interface RekeyOptions {
  /** Tasks per transaction (default 200): a crash loses at most one batch's work, never a row. */
  batchSize?: number;
  onBatch?: (report: Readonly<RekeyReport>) => void;
}

type SecretRow = { id: string } & Record<string, string | null>;

/**
 * Writes every task's params, result and checkpoint, and every schedule's params, again under
 * the current encryption key: values under an older key (given as a decryption key) and
 * plaintext values alike. Takes the database's owner lock, so it refuses to run while a kiln
 * server uses the file. Then vacuums, so that no old ciphertext or plaintext is left in free
 * pages of the file.
 */
export function rekeyDatabase(
  path: string,
  keys: Omit<SqliteSyncStoreOptions, "path">,
  options: RekeyOptions = {},
): RekeyReport {
  if (keys.encryptionKey === undefined) throw new Error("rekey needs the encryption key to write with");
  const codec = rowCodec(keys);
  const batchSize = options.batchSize ?? 200;
  const lock = DatabaseOwnerLock.acquire(path);
  try {
    const db = new Database(path, { readwrite: true, create: false, strict: true });
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA journal_mode = WAL");
      // Freed space is zeroed, so a value's old form does not linger in the file.
      db.exec("PRAGMA secure_delete = ON");
      const table = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'").get();
      if (!table) throw new Error(`${path} is not a kiln database (it has no tasks table)`);
      const columns = SECRET_FIELDS.map((field) => TASK_COLUMNS[field]);
      const select = db.query<SecretRow, [string, number]>(
        `SELECT id, ${columns.join(", ")} FROM tasks WHERE id > ? ORDER BY id LIMIT ?`,
      );
      const update = db.query(
        `UPDATE tasks SET ${columns.map((column) => `${column} = ?`).join(", ")} WHERE id = ?`,
      );
      const report: RekeyReport = {
        scanned: 0,
        rewritten: 0,
        batches: 0,
        schedules: { scanned: 0, rewritten: 0 },
      };
      let after = "";
      const rekeyBatch = db.transaction((rows: SecretRow[]) => {
        for (const row of rows) {
          let changed = false;
          const values = SECRET_FIELDS.map((field) => {
            const stored = row[TASK_COLUMNS[field]] ?? null;
            if (stored === null || codec.isCurrent(stored)) return stored;
            changed = true;
            return codec.reencode(field, stored, row.id);
          });
          if (changed) {
            update.run(...values, row.id);
            report.rewritten++;
          }
        }
      });
      for (;;) {
        const rows = select.all(after, batchSize);
        const last = rows.at(-1);
        if (!last) break;
        rekeyBatch(rows);
        report.scanned += rows.length;
        report.batches++;
        after = last.id;
        options.onBatch?.(report);
      }
      report.schedules = rekeySchedules(db, codec.sealed);
      // Encrypted params keep no searchable copy: the plaintext one of the rows written before goes.
      const fields = db
        .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_params'")
        .get();
      if (fields) db.exec("DELETE FROM task_params");
      db.exec("VACUUM");
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return report;
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

/** Every schedule's params under the current key, in one transaction; none in a database made before schedules. */
function rekeySchedules(db: Database, sealed: SealedJson): RekeyReport["schedules"] {
  const table = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schedules'").get();
  if (!table) return { scanned: 0, rewritten: 0 };
  const rows = db.query<ScheduleSecretRow, []>("SELECT id, params FROM schedules ORDER BY id").all();
  const changed = resealedSchedules(sealed, rows);
  const update = db.query("UPDATE schedules SET params = ? WHERE id = ?");
  db.transaction(() => {
    for (const { id, params } of changed) update.run(params, id);
  })();
  return { scanned: rows.length, rewritten: changed.length };
}
