import { parseArgs } from "node:util";
import { MAX_VALUE_LIMIT_BYTES, MIN_VALUE_LIMIT_BYTES } from "../engine/runs/value-limits.ts";
import { checkAuthOptions, readTokenLabel } from "../http/auth-options.ts";
import { checkCorsOrigin } from "../http/cors-origin.ts";
import { DURABILITIES, type Durability } from "../store/durability.ts";
import { parseStoreLocation, UnsupportedStoreLocationError } from "../store/location.ts";
import { InvalidKeyError, parseKey } from "../store/value-cipher.ts";
import { checkWebhookOptions, WebhookConfigError } from "../webhooks/options.ts";
import { allowedHosts, filesRoots, isLoopback } from "./access-config.ts";
import { type ClusterConfig, clusterConfig } from "./cluster-config.ts";
import { ConfigError } from "./config-error.ts";
import { noSecretFiles, type SecretFiles } from "./secret-file.ts";
import { type Secret, type SecretSource, secretList, singleSecret } from "./secrets.ts";
import {
  LOG_FILE_MODES,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFileMode,
  type LogFormat,
  type LogLevel,
  SERVE_FLAGS,
  type ServeFlag,
} from "./serve-flags.ts";

export { ConfigError, isLoopback };

export interface LogFileConfig {
  path: string;
  mode: LogFileMode;
  /** In `rotate` mode: a line that would take the file past this starts a new file. */
  maxBytes: number;
  /** In `rotate` mode: older files kept, as path.1 (newest) … path.N. */
  backups: number;
}

export interface ServeConfig extends ClusterConfig {
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
  /** Largest result, checkpoint state (bytes of JSON) and log line (bytes); undefined: the engine's default. */
  maxResultBytes: number | undefined;
  maxCheckpointBytes: number | undefined;
  maxLogLineBytes: number | undefined;
  /** The service log's JSON lines are written here too. */
  logFile: LogFileConfig | undefined;
  /** URLs every task transition is POSTed to. */
  webhooks: string[];
  /** Signs webhook deliveries; required when there are webhooks. */
  webhookSecret: string | undefined;
  /** What an acknowledged write survives: a process crash ("normal") or a power loss too ("full"). */
  durability: Durability;
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

/** A limit on stored values, in bytes, within what the engine takes. */
function byteLimit(value: string | undefined, name: string): number | undefined {
  return integer(value, name, MIN_VALUE_LIMIT_BYTES, MAX_VALUE_LIMIT_BYTES);
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

type ServeFlagName = keyof typeof SERVE_FLAGS;
/** The repeatable flags: each a list, read with `list()`, never with `setting()`. */
type RepeatableFlag = {
  [K in ServeFlagName]: (typeof SERVE_FLAGS)[K] extends { multiple: true } ? K : never;
}[ServeFlagName];

/** parseArgs' options for the table: every flag takes a string, the repeatable ones several. */
type ParseOptions = {
  [K in ServeFlagName]: (typeof SERVE_FLAGS)[K] extends { multiple: true }
    ? { type: "string"; multiple: true }
    : { type: "string" };
};

const SERVE_OPTIONS = Object.fromEntries(
  Object.entries(SERVE_FLAGS).map(([name, flag]: [string, ServeFlag]) => [
    name,
    flag.multiple ? { type: "string", multiple: true } : { type: "string" },
  ]),
) as ParseOptions;

type ServeValues = ReturnType<typeof parseArgs<{ options: typeof SERVE_OPTIONS }>>["values"];

/** --log-file and its companions; these need --log-file (or KILN_LOG_FILE) to mean anything. */
function logFile(values: ServeValues, env: Record<string, string | undefined>): LogFileConfig | undefined {
  const path = values["log-file"] ?? (env.KILN_LOG_FILE || undefined);
  const maxBytes = values["log-file-max-bytes"] ?? env.KILN_LOG_FILE_MAX_BYTES;
  const backups = values["log-file-backups"] ?? env.KILN_LOG_FILE_BACKUPS;
  const mode = values["log-file-mode"] ?? env.KILN_LOG_FILE_MODE;
  if (path === undefined) {
    const stray = [
      ["--log-file-max-bytes", values["log-file-max-bytes"]],
      ["--log-file-backups", values["log-file-backups"]],
      ["--log-file-mode", values["log-file-mode"]],
    ].find(([, value]) => value !== undefined);
    if (stray) throw new ConfigError(`${stray[0]} needs --log-file (or KILN_LOG_FILE)`);
    return undefined;
  }
  return {
    path,
    mode: oneOf(mode || "rotate", LOG_FILE_MODES, "--log-file-mode"),
    maxBytes: integer(maxBytes, "--log-file-max-bytes", 4_096, 2 ** 40) ?? 10 * 1024 * 1024,
    backups: integer(backups, "--log-file-backups", 0, 1_000) ?? 5,
  };
}

function webhooks(values: ServeValues, env: Record<string, string | undefined>) {
  const urls = list(values.webhook, env.KILN_WEBHOOK);
  const secret = env.KILN_WEBHOOK_SECRET || undefined;
  try {
    checkWebhookOptions(urls, secret);
  } catch (error) {
    if (error instanceof WebhookConfigError) throw new ConfigError(`--webhook: ${error.message}`);
    throw error;
  }
  return { webhooks: urls, webhookSecret: urls.length > 0 ? secret : undefined };
}

/** Which store `--db` names; a location that is neither is refused here, before anything starts. */
function dialectOf(db: string): "sqlite" | "postgres" {
  try {
    return parseStoreLocation(db).dialect;
  } catch (error) {
    if (error instanceof UnsupportedStoreLocationError) throw new ConfigError(`--db: ${error.message}`);
    throw error;
  }
}

/** Flags win over environment variables, which win over defaults. */
export function parseServeConfig(
  args: string[],
  env: Record<string, string | undefined>,
  isTty = Boolean(process.stdout.isTTY),
): ServeConfig {
  let values: ServeValues;
  try {
    values = parseArgs({ args, options: SERVE_OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw argumentError(error as Error);
  }
  /** A single-valued flag, else its environment variable. */
  const setting = (name: Exclude<ServeFlagName, RepeatableFlag>) =>
    values[name] ?? env[SERVE_FLAGS[name].env];
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
  const host = setting("host") ?? SERVE_FLAGS.host.default;
  const db = setting("db") ?? SERVE_FLAGS.db.default;
  const durability = setting("durability");
  if (dialectOf(db) === "postgres" && durability !== undefined) {
    throw new ConfigError(
      "--durability (KILN_DURABILITY) is SQLite's setting and does not apply to a PostgreSQL database: " +
        "there a commit's durability is the server's synchronous_commit",
    );
  }
  return {
    host,
    port: integer(setting("port"), "--port", 0, 65_535) ?? Number(SERVE_FLAGS.port.default),
    db,
    concurrency: integer(setting("concurrency"), "--concurrency", 1, 1_024),
    tasksDir: setting("tasks-dir"),
    ...auth,
    corsOrigins: corsOrigins(list(values["cors-origin"], env[SERVE_FLAGS["cors-origin"].env])),
    allowedHosts: allowedHosts(values["allowed-hosts"], env[SERVE_FLAGS["allowed-hosts"].env], host),
    filesRoots: filesRoots(values["files-root"], env[SERVE_FLAGS["files-root"].env]),
    logLevel: oneOf(setting("log-level") ?? SERVE_FLAGS["log-level"].default, LOG_LEVELS, "--log-level"),
    logFormat: oneOf(setting("log-format") ?? (isTty ? "pretty" : "json"), LOG_FORMATS, "--log-format"),
    maxBodyBytes:
      integer(setting("max-body-bytes"), "--max-body-bytes", 1_024, 1 << 30) ??
      Number(SERVE_FLAGS["max-body-bytes"].default),
    ...keyConfig(values, env, secretFiles),
    retainMs: duration(setting("retain"), "--retain"),
    taskMemoryLimitMb: integer(setting("task-memory-limit"), "--task-memory-limit", 16, 1 << 20),
    maxResultBytes: byteLimit(setting("max-result-bytes"), "--max-result-bytes"),
    maxCheckpointBytes: byteLimit(setting("max-checkpoint-bytes"), "--max-checkpoint-bytes"),
    maxLogLineBytes: byteLimit(setting("max-log-line-bytes"), "--max-log-line-bytes"),
    logFile: logFile(values, env),
    ...webhooks(values, env),
    durability: oneOf(durability ?? SERVE_FLAGS.durability.default, DURABILITIES, "--durability"),
    ...clusterConfig(setting),
    secretFiles,
  };
}
