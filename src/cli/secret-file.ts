import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./config-error.ts";

/** What reading secrets from files left to say and to protect. */
export interface SecretFiles {
  /** Said once the logger exists: a file others may read. */
  warnings: string[];
  /** Absolute paths of the files read, which kiln's file tasks must never touch. */
  paths: string[];
}

export function noSecretFiles(): SecretFiles {
  return { warnings: [], paths: [] };
}

/**
 * The secret held in the file at `path` (named `from`, the flag or variable that gave it):
 * its text without one trailing newline, as `echo` and editors leave it. A file anyone may
 * write is refused (anyone could replace the secret); one anyone may read is accepted with a
 * warning, since container secrets are often mounted that way. The secret never appears in a
 * message.
 */
export function readSecretFile(path: string, from: string, files: SecretFiles): string {
  const where = `${from} ${path}`;
  if (path.trim() === "")
    throw new ConfigError(`${from} is empty: give the path of the file that holds the secret`);
  let text: string;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new ConfigError(`${where} is not a regular file`);
    if (stats.mode & 0o002) {
      throw new ConfigError(`${where} may be written by every user of this machine: chmod 600 it`);
    }
    if (stats.mode & 0o004) {
      files.warnings.push(`${where} may be read by every user of this machine: chmod 600 it`);
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as { code?: unknown }).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES"
          ? "cannot be read (permission denied)"
          : String(code ?? error);
    throw new ConfigError(`${where} ${why}`);
  }
  files.paths.push(resolve(path));
  const secret = text.replace(/\r?\n$/, "");
  if (secret.trim() === "") throw new ConfigError(`${where} is empty`);
  return secret;
}
