import { drizzle } from "drizzle-orm/postgres-js";
import { ADVISORY_LOCKS } from "./advisory-locks.ts";
import type { PostgresClient } from "./client.ts";
import { MIGRATIONS } from "./migrations.generated.ts";

const [KIND, LOCK] = ADVISORY_LOCKS.migrate;

/**
 * Applies the migrations the database lacks, under a session advisory lock held on a reserved
 * connection: a second process starting at the same moment waits for the first to finish,
 * then finds nothing left to do. The migrations run on the pool (Drizzle's migrator opens its
 * own transaction); the lock only has to be held across them.
 */
export async function migrateUnderLock(client: PostgresClient): Promise<void> {
  const reserved = await client.reserve();
  try {
    await reserved.unsafe("SELECT pg_advisory_lock($1, $2)", [KIND, LOCK]);
    try {
      // The migrator reads drizzle/postgres/ at run time; this feeds its dialect the copy
      // generated into the source, as the SQLite store does. `dialect` and `session` are
      // internal, hence the cast.
      const internals = drizzle({ client }) as unknown as {
        dialect: {
          migrate(migrations: unknown, session: unknown, config: { migrationsFolder: string }): Promise<void>;
        };
        session: unknown;
      };
      await internals.dialect.migrate(MIGRATIONS, internals.session, { migrationsFolder: "" });
    } finally {
      await reserved.unsafe("SELECT pg_advisory_unlock($1, $2)", [KIND, LOCK]);
    }
  } finally {
    reserved.release();
  }
}
