import type { Logger } from "../engine/index.ts";
import {
  DatabaseInUseError,
  describeFault,
  PostgresTaskStore,
  parseStoreLocation,
  redactUrl,
  UnsupportedStoreLocationError,
} from "../store/index.ts";
import { CliError } from "./client/errors.ts";
import type { ServeConfig } from "./config.ts";

/** How often a PostgreSQL kiln asks the server whether it still holds its owner lock. */
export const OWNER_LOCK_CHECK_MS = 2_000;

/** The database as logs and errors may show it: a path, or a URL without its password. */
export function shownLocation(db: string): string {
  try {
    const where = parseStoreLocation(db);
    return where.dialect === "postgres" ? redactUrl(where.url) : where.path;
  } catch (error) {
    if (error instanceof UnsupportedStoreLocationError) return redactUrl(db);
    throw error;
  }
}

/** One line for a PostgreSQL database kiln cannot use, instead of a stack; the URL's password never in it. */
export function serverProblem(error: unknown, store: PostgresTaskStore, url: string): CliError {
  if (error instanceof DatabaseInUseError) return new CliError(error.message);
  const fault = store.faultOf(error);
  // The driver's own words may quote the URL it was given.
  const why = (fault ? describeFault(fault) : String((error as Error).message)).replaceAll(
    url,
    store.location,
  );
  return new CliError(`cannot use the database ${store.location}: ${why}`);
}

/**
 * A PostgreSQL database for `kiln serve`: opened with the keys, and its owner lock taken shared
 * before anything is read or migrated: other nodes serve beside it, while a command that needs
 * the database alone (rekey) refuses to start, and a node refuses while one runs. The engine
 * migrates it at start, under the migrations' own advisory lock.
 */
export async function openServerStore(config: ServeConfig, url: string): Promise<PostgresTaskStore> {
  const store = new PostgresTaskStore({
    url,
    encryptionKey: config.encryptionKey,
    decryptionKeys: config.decryptionKeys,
  });
  try {
    await store.acquireOwnerLock();
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    throw serverProblem(error, store, url);
  }
}

/**
 * Checks the shared owner lock every few seconds while kiln serves. A lock lost with its
 * connection is taken again; one a command took alone meanwhile (a rekey) means this node must
 * not write beside it: it stops at once, as a crash would, and its runs are rescued later.
 */
export function watchOwnerLock(
  store: PostgresTaskStore,
  logger: Logger,
  onTakenByAnother: () => void,
): () => void {
  let checking = false;
  let unreachableSince: number | undefined;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      const state = await store.checkOwnerLock();
      if (state === "unreachable") {
        unreachableSince ??= Date.now();
        return;
      }
      if (state === "retaken") {
        logger.warn("the owner lock's connection to PostgreSQL was lost; the lock is taken again", {
          db: store.location,
          ...(unreachableSince ? { lostForMs: Date.now() - unreachableSince } : {}),
        });
      } else if (state === "taken-by-another") {
        logger.error(
          "a kiln command took this database alone while the lock's connection was lost: this node stops serving",
          {
            db: store.location,
          },
        );
        onTakenByAnother();
      }
      unreachableSince = undefined;
    } catch (error) {
      logger.warn("checking the owner lock failed; the next check tries again", { error: String(error) });
    } finally {
      checking = false;
    }
  }, OWNER_LOCK_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The start-up line's durability on PostgreSQL, as the server runs kiln's sessions
 * ("synchronous_commit=on, fsync=on"): whether a commit kiln was told of survives a crash is
 * the server's to decide, so it is read from it, not assumed.
 */
export async function postgresDurability(store: PostgresTaskStore): Promise<string> {
  try {
    const { synchronousCommit, fsync } = await store.durabilitySettings();
    return `synchronous_commit=${synchronousCommit}, fsync=${fsync}`;
  } catch (error) {
    // Only a log line: the store answered a moment ago, and serving does not hang on this.
    return `unknown (the server did not say: ${error instanceof Error ? error.message : String(error)})`;
  }
}
