import { existsSync } from "node:fs";
import { redactUrl } from "../../store/location.ts";
import { HELP_FLAG, parseFlags, positionals } from "../client/args.ts";
import { type Command, commandHelp, usageLine } from "../client/command.ts";
import { CliError } from "../client/errors.ts";
import { ConfigError, KEY_OPTIONS, keyConfig } from "../config.ts";
import { noSecretFiles } from "../secret-file.ts";
import { databaseLocation } from "./check.ts";

const FLAGS_HELP = [
  "  --db PATH|URL           the SQLite file or a postgres:// URL (env KILN_DB, default ./kiln.db)",
  "  --encryption-key K      the key to write with: 32 bytes as base64 or hex (env KILN_ENCRYPTION_KEY)",
  "  --decryption-key K      a former key the rows may be under; repeatable (env KILN_DECRYPTION_KEYS, comma-separated)",
  "  --encryption-key-file F, --decryption-key-file F",
  "                          the same keys read from files, kept out of ps (env KILN_ENCRYPTION_KEY_FILE, KILN_DECRYPTION_KEY_FILES)",
  "",
  "The server must be stopped: rekey takes the database's owner lock (SQLite's file lock, or",
  "PostgreSQL's advisory lock). Rows are rewritten in",
  "batches of 200, so an interrupted rekey can be run again with the same keys.",
].join("\n");

export const rekeyCommand: Command = {
  name: "rekey",
  synopsis: "[--db ./kiln.db] --encryption-key K [--decryption-key OLD]...",
  summary:
    "Re-encrypt tasks' params, results and checkpoints and schedules' params with the current key, then exit.",
  async run(args, env) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, { ...HELP_FLAG, db: { type: "string" }, ...KEY_OPTIONS }, usage);
    if (parsed.values.help) {
      console.log(commandHelp(this, FLAGS_HELP));
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    const location = databaseLocation(parsed.values.db, env, usage);
    const files = noSecretFiles();
    const keys = keyConfig(parsed.values, env, files);
    for (const warning of files.warnings) console.error(`kiln: warning: ${warning}`);
    if (!keys.encryptionKey) {
      throw new ConfigError(
        "rekey needs the key to encrypt with: set --encryption-key or KILN_ENCRYPTION_KEY",
      );
    }
    const path = location.dialect === "sqlite" ? location.path : redactUrl(location.url);
    if (location.dialect === "sqlite" && !existsSync(path)) throw new CliError(`no database at ${path}`);
    // Loaded here so that the client commands never pay for drizzle.
    const { rekeyDatabase, DatabaseInUseError, keyId, UndecryptableValueError, describeFault } = await import(
      "../../store/index.ts"
    );
    const { rekeyPostgresDatabase } = await import("../../store/postgres/rekey.ts");
    const { postgresFaultOf } = await import("../../store/postgres/faults.ts");
    let done = 0;
    const onBatch = (progress: { scanned: number }) => {
      done = progress.scanned;
    };
    const encryptionKey = keys.encryptionKey;
    try {
      const report =
        location.dialect === "sqlite"
          ? rekeyDatabase(path, keys, { onBatch })
          : await rekeyPostgresDatabase(
              location.url,
              { encryptionKey, decryptionKeys: keys.decryptionKeys },
              { onBatch },
            );
      const { schedules } = report;
      console.log(
        `kiln: ${path}: ${report.rewritten} of ${report.scanned} tasks and ${schedules.rewritten} of ${schedules.scanned} ` +
          `schedules rewritten under key ${keyId(keys.encryptionKey)} (${report.batches} batches)`,
      );
      return 0;
    } catch (error) {
      if (error instanceof DatabaseInUseError) throw new CliError(error.message);
      if (error instanceof UndecryptableValueError) {
        throw new CliError(`rekey stopped after ${done} tasks: ${error.message}`);
      }
      const fault = location.dialect === "postgres" ? postgresFaultOf(error) : undefined;
      const why = fault ? describeFault(fault) : (error as Error).message;
      throw new CliError(
        `cannot rekey ${path}: ${location.dialect === "postgres" ? why.replaceAll(location.url, path) : why}`,
      );
    }
  },
};
