import { existsSync } from "node:fs";
import { ConfigError, KEY_OPTIONS, keyConfig } from "../config.ts";
import { noSecretFiles } from "../secret-file.ts";
import { HELP_FLAG, parseFlags, positionals } from "./args.ts";
import { type Command, commandHelp, usageLine } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";

const FLAGS_HELP = [
  "  --db PATH               the database file (env KILN_DB, default ./kiln.db)",
  "  --encryption-key K      the key to write with: 32 bytes as base64 or hex (env KILN_ENCRYPTION_KEY)",
  "  --decryption-key K      a former key the rows may be under; repeatable (env KILN_DECRYPTION_KEYS, comma-separated)",
  "  --encryption-key-file F, --decryption-key-file F",
  "                          the same keys read from files, kept out of ps (env KILN_ENCRYPTION_KEY_FILE, KILN_DECRYPTION_KEY_FILES)",
  "",
  "The server must be stopped: rekey takes the database's owner lock. Rows are rewritten in",
  "batches of 200, so an interrupted rekey can be run again with the same keys.",
].join("\n");

export const rekeyCommand: Command = {
  name: "rekey",
  synopsis: "[--db ./kiln.db] --encryption-key K [--decryption-key OLD]...",
  summary: "Re-encrypt every task's params, result and checkpoint with the current key, then exit.",
  async run(args, env) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, { ...HELP_FLAG, db: { type: "string" }, ...KEY_OPTIONS }, usage);
    if (parsed.values.help) {
      console.log(commandHelp(this, FLAGS_HELP));
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    const path = parsed.values.db ?? env.KILN_DB ?? "./kiln.db";
    if (path === "" || path === ":memory:") throw new UsageError("--db must be a file path", usage);
    const files = noSecretFiles();
    const keys = keyConfig(parsed.values, env, files);
    for (const warning of files.warnings) console.error(`kiln: warning: ${warning}`);
    if (!keys.encryptionKey) {
      throw new ConfigError(
        "rekey needs the key to encrypt with: set --encryption-key or KILN_ENCRYPTION_KEY",
      );
    }
    if (!existsSync(path)) throw new CliError(`no database at ${path}`);
    // Loaded here so that the client commands never pay for drizzle.
    const { rekeyDatabase, DatabaseInUseError, keyId, UndecryptableValueError } = await import(
      "../../store/index.ts"
    );
    let done = 0;
    try {
      const report = rekeyDatabase(path, keys, {
        onBatch: (progress) => {
          done = progress.scanned;
        },
      });
      console.log(
        `kiln: ${path}: ${report.rewritten} of ${report.scanned} tasks rewritten under key ${keyId(keys.encryptionKey)} ` +
          `(${report.batches} batches)`,
      );
      return 0;
    } catch (error) {
      if (error instanceof DatabaseInUseError) throw new CliError(error.message);
      if (error instanceof UndecryptableValueError) {
        throw new CliError(`rekey stopped after ${done} tasks: ${error.message}`);
      }
      throw new CliError(`cannot rekey ${path}: ${(error as Error).message}`);
    }
  },
};
