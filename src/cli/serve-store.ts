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
 * A PostgreSQL database for `kiln serve`: opened with the keys and asked one question, so that a
 * server kiln cannot reach is reported in one line before anything else. Several kiln nodes may
 * serve one database together; the engine migrates it at start, under the migrations' own
 * advisory lock.
 */
export async function openServerStore(config: ServeConfig, url: string): Promise<PostgresTaskStore> {
  const store = new PostgresTaskStore({
    url,
    encryptionKey: config.encryptionKey,
    decryptionKeys: config.decryptionKeys,
  });
  try {
    await store.durabilitySettings();
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    throw serverProblem(error, store, url);
  }
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
