import { type StorageFault, serverFault } from "../storage-fault.ts";

/**
 * The code of a transaction that got no answer within its deadline (see `TransactionStalledError`).
 * Taken as a lost connection: what it wrote may or may not be committed, as when a connection is
 * lost during a COMMIT.
 */
export const TRANSACTION_STALLED = "TRANSACTION_STALLED";

/** A transaction of the store that did not settle within its deadline. */
export class TransactionStalledError extends Error {
  readonly code = TRANSACTION_STALLED;

  constructor(deadlineMs: number) {
    super(`a transaction got no answer from PostgreSQL within ${deadlineMs} ms`);
    this.name = "TransactionStalledError";
  }
}

/** postgres.js's own codes for a connection that failed or went away, and the socket's. */
const CONNECTION_CODES = new Set([
  TRANSACTION_STALLED,
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now. */
const SHUTDOWN_STATES = new Set(["57P01", "57P02", "57P03"]);

function causeOf(code: string): Parameters<typeof serverFault>[0] | undefined {
  if (CONNECTION_CODES.has(code) || SHUTDOWN_STATES.has(code)) return "unreachable";
  // Class 08: connection exceptions.
  if (code.startsWith("08")) return "unreachable";
  // Class 53, insufficient resources: a full disk stays until someone frees space; out of
  // memory or of connections passes like a server that cannot be reached.
  if (code === "53100") return "disk_full";
  if (code.startsWith("53")) return "unreachable";
  // read_only_sql_transaction: a standby, or a primary switched to read-only.
  if (code === "25006") return "read_only";
  if (code === "58030") return "io_error";
  // data_corrupted, index_corrupted.
  if (code === "XX001" || code === "XX002") return "corrupt";
  return undefined;
}

/**
 * The storage fault an error of postgres.js means, or undefined for an error of the statement
 * (a constraint, a syntax error, a bug). Server errors carry their SQLSTATE in `code`; a lost
 * or refused connection carries postgres.js's code or the socket's.
 */
export function postgresFaultOf(error: unknown): StorageFault | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  const cause = causeOf(code);
  return cause === undefined ? undefined : serverFault(cause, code, error.message);
}
