import { parseArgs } from "node:util";
import { noSecretFiles, readSecretFile } from "../secret-file.ts";
import { UsageError } from "./errors.ts";

export type Env = Record<string, string | undefined>;

export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/** Flags every command accepts. */
export const HELP_FLAG = { help: { type: "boolean", short: "h" } } as const;

/** Flags of every command that talks to a server. */
export const CLIENT_FLAGS = {
  ...HELP_FLAG,
  url: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
} as const;

export const DEFAULT_URL = "http://127.0.0.1:3000";

/** `parseArgs` in strict mode, with its complaints turned into usage errors. */
export function parseFlags<const F extends FlagSpec>(args: string[], flags: F, usage: string) {
  try {
    return parseArgs({ args, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(flagProblem(error as Error), usage);
  }
}

/** node:util's messages run to several sentences and lines; the first part is what matters. */
function flagProblem(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return `unknown flag ${flag}`;
  if (flag && error.message.includes("argument is ambiguous")) {
    return `${flag} needs a value; write ${flag}=VALUE when the value starts with "-"`;
  }
  if (flag && error.message.includes("argument missing")) return `${flag} needs a value`;
  return error.message.split("\n")[0] ?? error.message;
}

/** Exactly the positionals a command takes, named for the error message. */
export function positionals<const N extends readonly string[]>(
  given: string[],
  names: N,
  usage: string,
): { [K in keyof N]: string } {
  const missing = names[given.length];
  if (missing !== undefined) throw new UsageError(`missing ${missing}`, usage);
  const extra = given[names.length];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, usage);
  // Checked just above: one string per name.
  return given as unknown as { [K in keyof N]: string };
}

function headerSafe(value: string): boolean {
  if (/\s/.test(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

export interface ClientConfig {
  url: string;
  token: string | undefined;
}

/** The token to send: --token or --token-file, else KILN_TOKEN or KILN_TOKEN_FILE. */
function clientToken(values: { token?: string; "token-file"?: string }, env: Env, usage: string) {
  const fromFile = (path: string, from: string) => readSecretFile(path, from, noSecretFiles());
  if (values.token !== undefined && values["token-file"] !== undefined) {
    throw new UsageError("--token and --token-file are both given: give only one of them", usage);
  }
  if (values.token !== undefined) return values.token;
  if (values["token-file"] !== undefined) return fromFile(values["token-file"], "--token-file");
  if (env.KILN_TOKEN !== undefined && env.KILN_TOKEN_FILE !== undefined) {
    throw new UsageError("KILN_TOKEN and KILN_TOKEN_FILE are both set: set only one of them", usage);
  }
  if (env.KILN_TOKEN_FILE !== undefined) return fromFile(env.KILN_TOKEN_FILE, "KILN_TOKEN_FILE");
  return env.KILN_TOKEN;
}

/** Flags win over environment variables, which win over defaults. */
export function clientConfig(
  values: { url?: string; token?: string; "token-file"?: string },
  env: Env,
  usage: string,
): ClientConfig {
  const url = values.url ?? env.KILN_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`, usage);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`, usage);
  }
  const token = clientToken(values, env, usage);
  // A header value cannot hold a line break; fetch would reject it with a less helpful message.
  if (token !== undefined && !headerSafe(token)) {
    throw new UsageError("--token must not contain whitespace or control characters", usage);
  }
  return { url, token: token === "" ? undefined : token };
}

/** An integer flag within bounds, or undefined when absent. */
export function integerFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
  usage: string,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} must be an integer ${range}, got "${value}"`, usage);
  }
  return parsed;
}
