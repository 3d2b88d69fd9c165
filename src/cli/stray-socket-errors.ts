import type { Logger } from "../engine/logger.ts";

/** What a socket reports when its peer went away or cannot be reached. */
const CONNECTION_LOSS_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTCONN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Whether an error is a socket's report of a lost or refused connection, and nothing else. */
export function isStraySocketError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  return (
    typeof code === "string" &&
    CONNECTION_LOSS_CODES.has(code) &&
    (syscall === "read" || syscall === "write" || syscall === "connect")
  );
}

/**
 * Keeps a server on PostgreSQL alive through a socket error that nothing listens for. postgres.js
 * takes its listeners off a socket once it has closed, and Bun may report the connection's loss
 * (a server restarting: ECONNRESET, ECONNREFUSED) on it after that; with no listener left the
 * error would end the process. The store already learns of the loss from the queries that failed
 * and opens new connections, so the event itself carries nothing to act on. Any other uncaught
 * error ends the process as it would without this (printed, exit status 1).
 */
export function surviveStraySocketErrors(logger: Logger, exit: () => never): () => void {
  const onUncaught = (error: unknown) => {
    if (isStraySocketError(error)) {
      logger.warn("a database connection's socket reported its loss late; the store reconnects by itself", {
        error: String(error),
      });
      return;
    }
    console.error(error);
    exit();
  };
  process.on("uncaughtException", onUncaught);
  return () => process.off("uncaughtException", onUncaught);
}
