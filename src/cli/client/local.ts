import { Database } from "bun:sqlite";
import pkg from "../../../package.json" with { type: "json" };
import { HELP_FLAG, parseFlags, positionals } from "./args.ts";
import { type Command, commandHelp, usageLine } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";

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

export const migrateCommand: Command = {
  name: "migrate",
  synopsis: "[--db ./kiln.db]",
  summary: "Create the SQLite database or bring its schema up to date, then exit.",
  async run(args, env) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, { ...HELP_FLAG, db: { type: "string" } }, usage);
    if (parsed.values.help) {
      console.log(commandHelp(this, "  --db PATH     the database file (env KILN_DB, default ./kiln.db)"));
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    const path = parsed.values.db ?? env.KILN_DB ?? "./kiln.db";
    if (path === "" || path === ":memory:") throw new UsageError("--db must be a file path", usage);
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
    const applied = after - before;
    const what = applied > 0 ? `applied ${plural(applied, "migration")} now` : "already up to date";
    console.log(`kiln: database ${path} is at schema ${after} (${what})`);
    return 0;
  },
};
