import { DatabaseInUseError } from "../owner-lock.ts";
import { ADVISORY_LOCKS } from "./advisory-locks.ts";
import { createClient, type PostgresClient, type PostgresClientOptions } from "./client.ts";
import { postgresFaultOf } from "./faults.ts";

const [KIND, LOCK] = ADVISORY_LOCKS.owner;

/** A PostgreSQL database another kiln process already owns. */
export class DatabaseServerInUseError extends DatabaseInUseError {
  constructor(location: string) {
    super(location);
    this.message =
      `database ${location} is in use by kiln: this command needs it alone ` +
      "(stop every kiln node serving it first)";
  }
}

/**
 * What a check of the owner lock found: still held; lost with its connection and taken again;
 * lost and now held by another kiln; or not checkable now (the server cannot be reached: the
 * next check tries again).
 */
export type OwnerLockState = "held" | "retaken" | "taken-by-another" | "unreachable";

/**
 * The lock's state, asked on its own connection in one statement: held by this session; else
 * taken now (the session is new: the one that held it was lost); else another session has it.
 */
const check = (take: string) => `SELECT CASE
  WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
    AND classid::bigint = $1::int AND objid::bigint = $2::int AND objsubid = 2 AND granted) THEN 'held'
  WHEN ${take}($1::int, $2::int) THEN 'retaken'
  ELSE 'taken-by-another' END AS state`;

/**
 * Serving nodes hold the lock shared, so any number of them serve one database together; a
 * command that must have the database alone (rekey) takes it exclusive, and so waits for no node
 * to serve and keeps every node out while it runs.
 */
export type OwnerLockMode = "shared" | "exclusive";

const TAKE: Record<OwnerLockMode, string> = {
  shared: "pg_try_advisory_lock_shared",
  exclusive: "pg_try_advisory_lock",
};
const UNLOCK: Record<OwnerLockMode, string> = {
  shared: "pg_advisory_unlock_shared",
  exclusive: "pg_advisory_unlock",
};

/** A database a command holds alone (a rekey under way): no node may serve it meanwhile. */
export class DatabaseServerBusyError extends DatabaseInUseError {
  constructor(location: string) {
    super(location);
    this.message = `database ${location} is held by a kiln command that needs it alone (a rekey): wait for it to end`;
  }
}

/**
 * The database's owner lock, shared by serving nodes and exclusive for a command that needs the
 * database alone (see `OwnerLockMode`): a session advisory lock on a
 * connection of its own (a one-connection client, not a connection reserved from the store's
 * pool: postgres.js throws out of its socket callback when a reserved connection the server
 * closed is written on or handed back). The server lets go of the lock when that connection
 * ends, so a process that dies leaves no stale lock; the same holds for a connection lost while
 * kiln lives (a restart of the server, a terminated backend), which `check()` notices and mends:
 * the client opens a new connection for its next statement.
 */
export class PostgresOwnerLock {
  #released = false;

  private constructor(
    private readonly client: PostgresClient,
    private readonly mode: OwnerLockMode,
  ) {}

  /** Rejects with `DatabaseServerInUseError` when another session holds the lock. */
  static async acquire(
    options: PostgresClientOptions,
    location: string,
    mode: OwnerLockMode = "exclusive",
  ): Promise<PostgresOwnerLock> {
    const client = createClient({ ...options, max: 1 });
    let locked = false;
    try {
      const [row] = await client.unsafe<Array<{ locked: boolean }>>(
        `SELECT ${TAKE[mode]}($1, $2) AS locked`,
        [KIND, LOCK],
      );
      locked = row?.locked === true;
    } finally {
      if (!locked) await client.end({ timeout: 5 });
    }
    if (!locked)
      throw mode === "shared"
        ? new DatabaseServerBusyError(location)
        : new DatabaseServerInUseError(location);
    return new PostgresOwnerLock(client, mode);
  }

  /**
   * Whether this process still owns the database; a lock lost with its connection is taken
   * again on a new one, unless another kiln was quicker.
   */
  async check(): Promise<OwnerLockState> {
    try {
      const [row] = await this.client.unsafe<Array<{ state: OwnerLockState }>>(check(TAKE[this.mode]), [
        KIND,
        LOCK,
      ]);
      return row?.state ?? "unreachable";
    } catch (error) {
      if (postgresFaultOf(error)?.cause === "unreachable") return "unreachable";
      throw error;
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    try {
      await this.client.unsafe(`SELECT ${UNLOCK[this.mode]}($1, $2)`, [KIND, LOCK]);
    } catch {
      // The connection is gone, and the lock with it.
    } finally {
      await this.client.end({ timeout: 5 });
    }
  }
}
