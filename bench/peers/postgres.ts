// The local PostgreSQL the PostgreSQL peers run on: each run gets a database of its own, created
// before and dropped after, so no peer and no earlier run leaves anything behind for another.
import { SQL } from "bun";
import { LEVEL_WORDS, postgresLevel } from "./durability-level.ts";
import { unreachable } from "./reachable.ts";
import type { Durability } from "./types.ts";

export const PG_HOST = "127.0.0.1";
export const PG_PORT = 5432;
export const PG_USER = "postgres";
/** Where CREATE and DROP DATABASE run from. */
const ADMIN_DATABASE = "postgres";

export const pgUrl = (database: string) => `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;

/** Null when PostgreSQL answers and lets this user create databases; otherwise why not. */
export async function pgUnavailable(): Promise<string | null> {
  const down = await unreachable("PostgreSQL", PG_HOST, PG_PORT);
  if (down) return down;
  try {
    const rows = await admin((sql) =>
      sql.unsafe("SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user"),
    );
    return (rows[0] as { ok?: boolean } | undefined)?.ok
      ? null
      : `PostgreSQL user ${PG_USER} may not create databases (each run creates its own)`;
  } catch (error) {
    return `PostgreSQL at ${PG_HOST}:${PG_PORT} refused user ${PG_USER} on database ${ADMIN_DATABASE}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function admin<T>(run: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(pgUrl(ADMIN_DATABASE), { max: 1 });
  try {
    return await run(sql);
  } finally {
    await sql.close();
  }
}

/** A database name PostgreSQL accepts unquoted: the namespace is made of [a-z0-9_]. */
function checkName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  return name;
}

export function createDatabase(name: string): Promise<void> {
  return admin(async (sql) => void (await sql.unsafe(`CREATE DATABASE ${checkName(name)}`)));
}

/** Drops it even while a pool the peer forgot still holds a connection (FORCE, PostgreSQL 13+). */
export function dropDatabase(name: string): Promise<void> {
  return admin(
    async (sql) => void (await sql.unsafe(`DROP DATABASE IF EXISTS ${checkName(name)} WITH (FORCE)`)),
  );
}

/** synchronous_commit and fsync as the server reports them, and what they mean for a job. */
export async function pgDurability(sql: SQL, what: string): Promise<Durability> {
  const show = async (name: string) =>
    ((await sql.unsafe(`SHOW ${name}`))[0] as Record<string, string> | undefined)?.[name] ?? "?";
  const synchronousCommit = await show("synchronous_commit");
  const fsync = await show("fsync");
  const level = postgresLevel(synchronousCommit, fsync);
  return {
    level,
    short: `PostgreSQL, synchronous_commit=${synchronousCommit}, fsync=${fsync}`,
    setting: `synchronous_commit=${synchronousCommit}, fsync=${fsync} (read from the server)`,
    note: `${what} returns after its commit: ${LEVEL_WORDS[level]}`,
  };
}
