import postgres from "postgres";
import type { SqlValue } from "../task-rows.ts";

const identity = (value: unknown) => value;

/**
 * How values cross the wire. bigint columns (times, ids, counts) arrive as numbers: epoch
 * milliseconds and row ids stay far below 2^53. JSON columns arrive as their text, which the
 * row codec decrypts and parses (and checks for depth, as it does SQLite's), and go out as text
 * the store already made, never serialised a second time.
 */
const TYPES = {
  epochOrCount: {
    to: 20,
    from: [20],
    // A time given with a fraction of a millisecond (a computed delay) fits a bigint rounded;
    // SQLite would keep the fraction, PostgreSQL would refuse the statement.
    serialize: (value: number) => String(Number.isInteger(value) ? value : Math.round(value)),
    parse: (raw: string) => Number(raw),
  },
  jsonText: { to: 114, from: [114], serialize: identity, parse: identity },
  jsonbText: { to: 3802, from: [3802], serialize: identity, parse: identity },
} satisfies Record<string, postgres.PostgresType>;

export type PostgresClient = postgres.Sql<Record<string, unknown>>;
export type PostgresTransaction = postgres.TransactionSql<Record<string, unknown>>;
/** A client, a transaction or a savepoint: what a statement can be sent on. */
export type Executor = Pick<PostgresClient, "unsafe">;
export type Row = Record<string, SqlValue>;

export interface PostgresClientOptions {
  url: string;
  /** Connections in the pool (default 10). */
  max?: number | undefined;
  /** Where the server's notices go (default: nowhere). */
  onNotice?: ((notice: postgres.Notice) => void) | undefined;
}

/** The longest wait before a lost connection is opened again, in seconds. */
const MAX_RECONNECT_DELAY_S = 1;

/**
 * Seconds to wait before reconnecting, after `retries` failed attempts of the whole pool (postgres.js
 * counts them across its connections). Its default grows to 20 s: during a restart of a fraction of
 * a second, a pool of ten connections fails often enough to leave writes waiting 5–20 s after the
 * server is back. Capped at 1 s, a pool costs a server that is down a few connection attempts a
 * second; jittered, so that the nodes do not all come back in step.
 */
export function reconnectDelaySeconds(retries: number): number {
  return Math.min(0.05 * 2 ** retries, MAX_RECONNECT_DELAY_S) * (0.5 + Math.random() / 2);
}

export function createClient(options: PostgresClientOptions): PostgresClient {
  return postgres(options.url, {
    max: options.max ?? 10,
    onnotice: options.onNotice ?? (() => {}),
    connection: { application_name: "kiln" },
    backoff: reconnectDelaySeconds,
    types: TYPES,
    // fetch_types stays on although the store sends no arrays: with it off, postgres.js 3.4.9
    // never hands out a connection that `reserve()` had to open (the locks need one).
  }) as unknown as PostgresClient;
}

/**
 * The parameters as PostgreSQL text takes them: it refuses NUL, which SQLite keeps, so a NUL
 * becomes U+FFFD rather than failing the statement (a stop reason, a log line). JSON text never
 * holds one (JSON.stringify escapes it, and json columns keep the escape), so values read back
 * as written. A lone surrogate already becomes U+FFFD on its way into UTF-8, as with SQLite.
 */
function storable(params: readonly SqlValue[]): readonly SqlValue[] {
  let copy: SqlValue[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (typeof value !== "string" || !value.includes("\0")) continue;
    copy ??= [...params];
    copy[i] = value.replaceAll("\0", "\uFFFD");
  }
  return copy ?? params;
}

/** Runs a fixed statement, prepared once per connection (postgres.js keys its cache by the text). */
export function run<R = Row>(
  db: Executor,
  text: string,
  params: readonly SqlValue[],
  /**
   * False for a statement whose best plan depends on its values: a named (prepared) statement
   * goes over to PostgreSQL's generic plan after five runs, planned without them.
   */
  prepare = true,
): Promise<R[]> {
  // postgres.js types parameters by its own type map; ours are plain strings, numbers and nulls.
  return db.unsafe(text, storable(params) as never[], { prepare }) as unknown as Promise<R[]>;
}
