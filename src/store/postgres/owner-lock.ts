import { DatabaseInUseError } from "../owner-lock.ts";
import { ADVISORY_LOCKS } from "./advisory-locks.ts";
import type { PostgresClient } from "./client.ts";

const [KIND, LOCK] = ADVISORY_LOCKS.owner;

/** A PostgreSQL database another kiln process already owns. */
export class DatabaseServerInUseError extends DatabaseInUseError {
  constructor(location: string) {
    super(location);
    this.message =
      `database ${location} is in use by another kiln process: one kiln owns a PostgreSQL database at a time ` +
      "(stop the other one, or give this one its own database)";
  }
}

/**
 * One owner per database, until kiln runs on several nodes: a session advisory lock on a
 * connection reserved for it, held until the store closes. The server lets go of it when that
 * connection ends, so a process that dies leaves no stale lock.
 */
export class PostgresOwnerLock {
  private constructor(readonly release: () => Promise<void>) {}

  /** Rejects with `DatabaseServerInUseError` when another session holds the lock. */
  static async acquire(client: PostgresClient, location: string): Promise<PostgresOwnerLock> {
    const reserved = await client.reserve();
    let locked = false;
    try {
      const [row] = await reserved.unsafe<Array<{ locked: boolean }>>(
        "SELECT pg_try_advisory_lock($1, $2) AS locked",
        [KIND, LOCK],
      );
      locked = row?.locked === true;
    } finally {
      if (!locked) reserved.release();
    }
    if (!locked) throw new DatabaseServerInUseError(location);
    return new PostgresOwnerLock(async () => {
      try {
        await reserved.unsafe("SELECT pg_advisory_unlock($1, $2)", [KIND, LOCK]);
      } catch {
        // The connection is gone, and the lock with it.
      } finally {
        reserved.release();
      }
    });
  }
}
