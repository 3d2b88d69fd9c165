import { type RekeyOptions, type RekeyReport, resealedSchedules, type ScheduleSecretRow } from "../rekey.ts";
import type { SealedJson } from "../sealed-json.ts";
import { rowCodec } from "../sqlite.ts";
import { redactUrl } from "../store-location.ts";
import { SECRET_FIELDS, TASK_COLUMNS } from "../task-rows.ts";
import type { KeyMaterial } from "../value-cipher.ts";
import { createClient, type PostgresClient, run } from "./client.ts";
import { PostgresOwnerLock } from "./owner-lock.ts";

type SecretRow = { id: string } & Record<string, string | null>;

/**
 * `rekeyDatabase` for a PostgreSQL database: every task's params, result and checkpoint written
 * again under the current key, in batches of one transaction each, then every schedule's params
 * in one, under the database's owner lock (so it refuses while a kiln serves it). The old values
 * stay in dead row versions until PostgreSQL's vacuum reclaims them; a `VACUUM` of both tables
 * at the end starts that.
 */
export async function rekeyPostgresDatabase(
  url: string,
  keys: { encryptionKey: KeyMaterial; decryptionKeys?: readonly KeyMaterial[] | undefined },
  options: RekeyOptions = {},
): Promise<RekeyReport> {
  const codec = rowCodec(keys, "json");
  const batchSize = options.batchSize ?? 200;
  const client = createClient({ url, max: 2 });
  try {
    const lock = await PostgresOwnerLock.acquire({ url }, redactUrl(url));
    try {
      const [table] = await run<{ found: boolean }>(
        client,
        "SELECT to_regclass('tasks') IS NOT NULL AS found",
        [],
      );
      if (table?.found !== true)
        throw new Error(`${redactUrl(url)} is not a kiln database (it has no tasks table)`);
      const columns = SECRET_FIELDS.map((field) => TASK_COLUMNS[field]);
      // Read as text: the stored JSON exactly as written, a ciphertext as its JSON string.
      const select = `SELECT id, ${columns.map((c) => `${c}::text AS ${c}`).join(", ")} FROM tasks
        WHERE id > $1 COLLATE "C" ORDER BY id COLLATE "C" LIMIT $2`;
      const update = `UPDATE tasks SET ${columns.map((c, i) => `${c} = $${i + 1}::text::json`).join(", ")}
        WHERE id = $${columns.length + 1}`;
      const report: RekeyReport = {
        scanned: 0,
        rewritten: 0,
        batches: 0,
        schedules: { scanned: 0, rewritten: 0 },
      };
      let after = "";
      for (;;) {
        const rows = await run<SecretRow>(client, select, [after, batchSize]);
        const last = rows.at(-1);
        if (!last) break;
        await client.begin(async (tx) => {
          for (const row of rows) {
            let changed = false;
            const values = SECRET_FIELDS.map((field) => {
              const stored = row[TASK_COLUMNS[field]] ?? null;
              if (stored === null || codec.isCurrent(stored)) return stored;
              changed = true;
              return codec.reencode(field, stored, row.id);
            });
            if (!changed) continue;
            await run(tx, update, [...values, row.id]);
            report.rewritten++;
          }
        });
        report.scanned += rows.length;
        report.batches++;
        after = last.id;
        options.onBatch?.(report);
      }
      report.schedules = await rekeySchedules(client, codec.sealed);
      // Encrypted params keep no searchable copy: the plaintext one of the rows written before goes.
      const [fields] = await run<{ found: boolean }>(
        client,
        "SELECT to_regclass('task_params') IS NOT NULL AS found",
        [],
      );
      if (fields?.found === true) await client.unsafe("DELETE FROM task_params");
      await client.unsafe(
        `VACUUM tasks${report.schedules.scanned > 0 ? ", schedules" : ""}${fields?.found === true ? ", task_params" : ""}`,
      );
      return report;
    } finally {
      await lock.release();
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Every schedule's params under the current key, in one transaction; none in a database made before schedules. */
async function rekeySchedules(client: PostgresClient, sealed: SealedJson): Promise<RekeyReport["schedules"]> {
  const [table] = await run<{ found: boolean }>(
    client,
    "SELECT to_regclass('schedules') IS NOT NULL AS found",
    [],
  );
  if (table?.found !== true) return { scanned: 0, rewritten: 0 };
  return client.begin(async (tx) => {
    // Read in the transaction, locked: a schedule's params are written back as they were read.
    const rows = await run<ScheduleSecretRow>(
      tx,
      "SELECT id, params::text AS params FROM schedules ORDER BY id FOR UPDATE",
      [],
    );
    const changed = resealedSchedules(sealed, rows);
    for (const { id, params } of changed) {
      await run(tx, "UPDATE schedules SET params = $1::text::json WHERE id = $2", [params, id]);
    }
    return { scanned: rows.length, rewritten: changed.length };
  });
}
