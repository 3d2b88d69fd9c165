import { DatabaseInUseError } from "../owner-lock.ts";
import { ADVISORY_LOCKS } from "./advisory-locks.ts";
import type { PostgresClient } from "./client.ts";
import { postgresFaultOf } from "./faults.ts";

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
 * What a check of the owner lock found: still held; lost with its connection and taken again;
 * lost and now held by another kiln; or not checkable now (the server cannot be reached: the
 * next check tries again).
 */
export type OwnerLockState = "held" | "retaken" | "taken-by-another" | "unreachable";

type Reserved = Awaited<ReturnType<PostgresClient["reserve"]>>;

/** Tries the lock on a connection of its own: the connection, or undefined if another holds it. */
async function tryLock(client: PostgresClient): Promise<Reserved | undefined> {
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
  return locked ? reserved : undefined;
}

/**
 * One owner per database, until kiln runs on several nodes: a session advisory lock on a
 * connection reserved for it, held until the store closes. The server lets go of it when that
 * connection ends, so a process that dies leaves no stale lock; the same holds for a connection
 * lost while kiln lives (a restart of the server, a terminated backend), which `check()` notices
 * and mends.
 */
export class PostgresOwnerLock {
  #reserved: Reserved | undefined;

  private constructor(
    private readonly client: PostgresClient,
    private readonly location: string,
    reserved: Reserved,
  ) {
    this.#reserved = reserved;
  }

  /** Rejects with `DatabaseServerInUseError` when another session holds the lock. */
  static async acquire(client: PostgresClient, location: string): Promise<PostgresOwnerLock> {
    const reserved = await tryLock(client);
    if (!reserved) throw new DatabaseServerInUseError(location);
    return new PostgresOwnerLock(client, location, reserved);
  }

  /**
   * Asks the server whether this session still holds the lock; if its connection was lost (the
   * lock went with it), takes it again on a new one, unless another kiln was quicker.
   */
  async check(): Promise<OwnerLockState> {
    const reserved = this.#reserved;
    if (reserved) {
      try {
        // Our own session's advisory lock, as pg_locks shows it: granted while we hold it.
        const [row] = await reserved.unsafe<Array<{ held: boolean }>>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
             AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2 AND granted) AS held`,
          [KIND, LOCK],
        );
        if (row?.held === true) return "held";
      } catch (error) {
        if (postgresFaultOf(error)?.cause !== "unreachable") throw error;
      }
      this.#reserved = undefined;
      reserved.release();
    }
    try {
      const again = await tryLock(this.client);
      if (!again) return "taken-by-another";
      this.#reserved = again;
      return "retaken";
    } catch (error) {
      if (postgresFaultOf(error)?.cause === "unreachable") return "unreachable";
      throw error;
    }
  }

  async release(): Promise<void> {
    const reserved = this.#reserved;
    this.#reserved = undefined;
    if (!reserved) return;
    try {
      await reserved.unsafe("SELECT pg_advisory_unlock($1, $2)", [KIND, LOCK]);
    } catch {
      // The connection is gone, and the lock with it.
    } finally {
      reserved.release();
    }
  }
}
