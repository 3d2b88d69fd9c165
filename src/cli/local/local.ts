import { Database } from "bun:sqlite";
import pkg from "../../../package.json" with { type: "json" };
import { HELP_FLAG, parseFlags, positionals } from "../client/args.ts";
import { type Command, commandHelp, usageLine } from "../client/command.ts";
import { CliError } from "../client/errors.ts";
import { databaseLocation } from "./check.ts";

export const versionCommand: Command = {
  name: "version",
  synopsis: "",
  summary: "Print kiln's version and the Bun runtime's.",
  async run(args) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, HELP_FLAG, usage);
    if (parsed.values.help) {
      console.log(commandHelp(this, ""));
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    console.log(`kiln ${pkg.version} (bun ${Bun.version})`);
    return 0;
  },
};

/** Rows of drizzle's own bookkeeping table: one per migration applied. 0 before the first. */
function appliedMigrations(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    const table = db
      .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
      .get();
    if (!table) return 0;
    const row = db.query<{ n: number }, []>("SELECT count(*) AS n FROM __drizzle_migrations").get();
    return row?.n ?? 0;
  } finally {
    db.close();
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Migrations PostgreSQL's database has applied, in drizzle's table; 0 before the first. */
async function appliedServerMigrations(url: string): Promise<number> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql.unsafe<Array<{ n: number | null }>>(
      "SELECT CASE WHEN to_regclass('drizzle.__drizzle_migrations') IS NULL THEN 0 END AS n",
    );
    if (row?.n === 0) return 0;
    const [count] = await sql.unsafe<Array<{ n: string }>>(
      "SELECT count(*) AS n FROM drizzle.__drizzle_migrations",
    );
    return Number(count?.n ?? 0);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Migrates a PostgreSQL database under the migrations' advisory lock (a serving kiln may hold the owner lock). */
async function migrateServer(url: string): Promise<number> {
  const { PostgresTaskStore, redactUrl, describeFault } = await import("../../store/index.ts");
  const store = new PostgresTaskStore({ url, max: 2 });
  let before: number;
  let after: number;
  try {
    try {
      before = await appliedServerMigrations(url);
      await store.migrate();
      after = await appliedServerMigrations(url);
    } finally {
      await store.close();
    }
  } catch (error) {
    const fault = store.faultOf(error);
    const why = (fault ? describeFault(fault) : (error as Error).message).replaceAll(url, redactUrl(url));
    throw new CliError(`cannot migrate the database ${redactUrl(url)}: ${why}`);
  }
  report(redactUrl(url), before, after);
  return 0;
}

function report(where: string, before: number, after: number): void {
  const applied = after - before;
  const what = applied > 0 ? `applied ${plural(applied, "migration")} now` : "already up to date";
  console.log(`kiln: database ${where} is at schema ${after} (${what})`);
}

export const migrateCommand: Command = {
  name: "migrate",
  synopsis: "[--db ./kiln.db | --db postgres://…]",
  summary: "Create the database's tables or bring its schema up to date, then exit.",
  async run(args, env) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, { ...HELP_FLAG, db: { type: "string" } }, usage);
    if (parsed.values.help) {
      console.log(
        commandHelp(
          this,
          "  --db PATH|URL     the SQLite file or a postgres:// URL (env KILN_DB, default ./kiln.db)",
        ),
      );
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    const location = databaseLocation(parsed.values.db, env, usage);
    if (location.dialect === "postgres") return migrateServer(location.url);
    const path = location.path;
    // Loaded here so that the client commands never pay for drizzle.
    const { SqliteTaskStore } = await import("../../store/sqlite-store.ts");
    let before: number;
    let after: number;
    try {
      const store = new SqliteTaskStore({ path, backgroundCheckpoints: false });
      try {
        before = appliedMigrations(path);
        await store.migrate();
        after = appliedMigrations(path);
      } finally {
        await store.close();
      }
    } catch (error) {
      throw new CliError(`cannot migrate the database ${path}: ${(error as Error).message}`);
    }
    report(path, before, after);
    return 0;
  },
};
