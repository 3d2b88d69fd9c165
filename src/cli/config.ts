import { parseArgs } from "node:util";
import { checkAuthOptions, readTokenLabel } from "../http/auth-options.ts";
import { checkCorsOrigin } from "../http/cors-origin.ts";
import { InvalidKeyError, parseKey } from "../store/value-cipher.ts";
import { allowedHosts, filesRoots, isLoopback } from "./access-config.ts";
import { ConfigError } from "./config-error.ts";
import { noSecretFiles, type SecretFiles } from "./secret-file.ts";
import { type Secret, type SecretSource, secretList, singleSecret } from "./secrets.ts";

export { ConfigError, isLoopback };

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface ServeConfig {
  host: string;
  port: number;
  db: string;
  concurrency: number | undefined;
  tasksDir: string | undefined;
  /** Bearer token every API route but the probes and UI shells requires; its holder may do anything. */
  token: string | undefined;
  /** Tokens that may only read: labelled "read-1", "read-2", … in this order. */
  readTokens: string[];
  /** Exact origins whose browser pages may call the API (CORS); empty: none. */
  corsOrigins: string[];
  /** Host names requests may address kiln by; undefined: any. */
  allowedHosts: string[] | undefined;
  /** Absolute paths of the directories the built-in file tasks may use; empty: they are disabled. */
  filesRoots: string[];
  logLevel: LogLevel;
  logFormat: LogFormat;
  maxBodyBytes: number;
  /** Params, results and checkpoints are stored encrypted with this key. */
  encryptionKey: Uint8Array | undefined;
  /** Former keys, to read rows written with them. */
  decryptionKeys: Uint8Array[];
  /** Ended tasks older than this are deleted. */
  retainMs: number | undefined;
  /** Memory cap in MB of each task run whose class sets none. */
  taskMemoryLimitMb: number | undefined;
  /** The files tokens and keys were read from, and what to warn about them. */
  secretFiles: SecretFiles;
}

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
}

// A bearer token travels in a header: printable ASCII without spaces is what survives there.
const TOKEN_CHARS = /^[!-~]+$/;

const TOKEN: SecretSource = {
  flag: "--token",
  fileFlag: "--token-file",
  variable: "KILN_TOKEN",
  fileVariable: "KILN_TOKEN_FILE",
};
const READ_TOKENS: SecretSource = {
  flag: "--read-token",
  fileFlag: "--read-token-file",
  variable: "KILN_READ_TOKENS",
  fileVariable: "KILN_READ_TOKEN_FILES",
};
const ENCRYPTION_KEY: SecretSource = {
  flag: "--encryption-key",
  fileFlag: "--encryption-key-file",
  variable: "KILN_ENCRYPTION_KEY",
  fileVariable: "KILN_ENCRYPTION_KEY_FILE",
};
const DECRYPTION_KEYS: SecretSource = {
  flag: "--decryption-key",
  fileFlag: "--decryption-key-file",
  variable: "KILN_DECRYPTION_KEYS",
  fileVariable: "KILN_DECRYPTION_KEY_FILES",
};

function token(secret: Secret | undefined): string | undefined {
  if (secret === undefined) return undefined;
  if (!TOKEN_CHARS.test(secret.text)) {
    throw new ConfigError(
      /file$/i.test(secret.from)
        ? `the token in ${secret.from} must be printable ASCII without spaces (one trailing newline is ignored)`
        : `${secret.from} must be printable ASCII without spaces`,
    );
  }
  return secret.text;
}

function key({ text, from }: Secret): Uint8Array {
  try {
    return parseKey(text);
  } catch (error) {
    if (error instanceof InvalidKeyError) throw new ConfigError(`${from}: ${error.message}`);
    throw error;
  }
}

/** The flags that carry keys, shared by `serve` and `rekey`. */
export const KEY_OPTIONS = {
  "encryption-key": { type: "string" },
  "encryption-key-file": { type: "string" },
  "decryption-key": { type: "string", multiple: true },
  "decryption-key-file": { type: "string", multiple: true },
} as const;

export interface KeyConfig {
  encryptionKey: Uint8Array | undefined;
  decryptionKeys: Uint8Array[];
}

/**
 * --encryption-key / --encryption-key-file / KILN_ENCRYPTION_KEY / KILN_ENCRYPTION_KEY_FILE and
 * the former keys: --decryption-key or --decryption-key-file (repeatable), KILN_DECRYPTION_KEYS
 * or KILN_DECRYPTION_KEY_FILES (comma-separated).
 */
export function keyConfig(
  values: {
    "encryption-key"?: string | undefined;
    "encryption-key-file"?: string | undefined;
    "decryption-key"?: string[] | undefined;
    "decryption-key-file"?: string[] | undefined;
  },
  env: Record<string, string | undefined>,
  files: SecretFiles = noSecretFiles(),
): KeyConfig {
  const current = singleSecret(
    ENCRYPTION_KEY,
    { value: values["encryption-key"], file: values["encryption-key-file"] },
    env,
    files,
  );
  const older = secretList(
    DECRYPTION_KEYS,
    { values: values["decryption-key"], files: values["decryption-key-file"] },
    env,
    files,
  );
  if (current === undefined && older.length > 0) {
    throw new ConfigError(
      "decryption keys need an encryption key too: set --encryption-key or KILN_ENCRYPTION_KEY",
    );
  }
  return {
    encryptionKey: current === undefined ? undefined : key(current),
    decryptionKeys: older.map(key),
  };
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "12h", "30d" in milliseconds. */
export function duration(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  const amount = match ? Number(match[1]) : 0;
  const unit = match ? (DURATION_UNITS[match[2] ?? ""] ?? 0) : 0;
  if (amount <= 0 || unit === 0 || !Number.isSafeInteger(amount * unit)) {
    throw new ConfigError(
      `${name} must be a positive whole number of s, m, h or d (like 30d or 12h), got "${value}"`,
    );
  }
  return amount * unit;
}

/** A list from repeated flags, or else from a comma-separated variable; blanks around commas dropped. */
function list(flags: string[] | undefined, variable: string | undefined): string[] {
  if (flags !== undefined && flags.length > 0) return flags;
  if (variable === undefined) return [];
  return variable
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** Read tokens get labels by position; a message names the label, never the token. */
function readTokens(secrets: Secret[]): string[] {
  return secrets.map(({ text }, index) => {
    if (!TOKEN_CHARS.test(text)) {
      throw new ConfigError(`read token ${readTokenLabel(index)} must be printable ASCII without spaces`);
    }
    return text;
  });
}

function corsOrigins(values: string[]): string[] {
  try {
    return values.map(checkCorsOrigin);
  } catch (error) {
    throw new ConfigError(`--cors-origin: ${(error as Error).message}`);
  }
}

/**
 * parseArgs' own messages, on one line and without echoing a stray argument: that may be a
 * token given to the wrong flag.
 */
function argumentError(error: Error): ConfigError {
  if (/^Unexpected argument/.test(error.message)) {
    return new ConfigError(
      "unexpected argument: serve takes only flags (--name value or --name=value); see kiln help serve",
    );
  }
  return new ConfigError(error.message.replace(/\s*\n\s*/g, " "));
}

const SERVE_OPTIONS = {
  ...KEY_OPTIONS,
  retain: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  db: { type: "string" },
  concurrency: { type: "string" },
  "tasks-dir": { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "read-token": { type: "string", multiple: true },
  "read-token-file": { type: "string", multiple: true },
  "cors-origin": { type: "string", multiple: true },
  "allowed-hosts": { type: "string", multiple: true },
  "files-root": { type: "string", multiple: true },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "max-body-bytes": { type: "string" },
  "task-memory-limit": { type: "string" },
} as const;

/** Flags win over environment variables, which win over defaults. */
export function parseServeConfig(
  args: string[],
  env: Record<string, string | undefined>,
  isTty = Boolean(process.stdout.isTTY),
): ServeConfig {
  let values: ReturnType<typeof parseArgs<{ options: typeof SERVE_OPTIONS }>>["values"];
  try {
    values = parseArgs({ args, options: SERVE_OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw argumentError(error as Error);
  }
  const secretFiles = noSecretFiles();
  const auth = {
    token: token(singleSecret(TOKEN, { value: values.token, file: values["token-file"] }, env, secretFiles)),
    readTokens: readTokens(
      secretList(
        READ_TOKENS,
        { values: values["read-token"], files: values["read-token-file"] },
        env,
        secretFiles,
        (index, from) => `read token ${readTokenLabel(index)} (${from})`,
      ),
    ),
  };
  try {
    checkAuthOptions(auth);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const host = values.host ?? env.KILN_HOST ?? "127.0.0.1";
  return {
    host,
    port: integer(values.port ?? env.KILN_PORT, "--port", 0, 65_535) ?? 3000,
    db: values.db ?? env.KILN_DB ?? "./kiln.db",
    concurrency: integer(values.concurrency ?? env.KILN_CONCURRENCY, "--concurrency", 1, 1_024),
    tasksDir: values["tasks-dir"] ?? env.KILN_TASKS_DIR,
    ...auth,
    corsOrigins: corsOrigins(list(values["cors-origin"], env.KILN_CORS_ORIGINS)),
    allowedHosts: allowedHosts(values["allowed-hosts"], env.KILN_ALLOWED_HOSTS, host),
    filesRoots: filesRoots(values["files-root"], env.KILN_FILES_ROOTS),
    logLevel: oneOf(values["log-level"] ?? env.KILN_LOG_LEVEL ?? "info", LOG_LEVELS, "--log-level"),
    logFormat: oneOf(
      values["log-format"] ?? env.KILN_LOG_FORMAT ?? (isTty ? "pretty" : "json"),
      LOG_FORMATS,
      "--log-format",
    ),
    maxBodyBytes:
      integer(values["max-body-bytes"] ?? env.KILN_MAX_BODY_BYTES, "--max-body-bytes", 1_024, 1 << 30) ??
      1 << 20,
    ...keyConfig(values, env, secretFiles),
    retainMs: duration(values.retain ?? env.KILN_RETAIN, "--retain"),
    taskMemoryLimitMb: integer(
      values["task-memory-limit"] ?? env.KILN_TASK_MEMORY_LIMIT,
      "--task-memory-limit",
      16,
      1 << 20,
    ),
    secretFiles,
  };
}
