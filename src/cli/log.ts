import type { Logger } from "../engine/index.ts";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "./serve-flags.ts";

type Write = (line: string) => void;

const COLOURS: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

function errorFields(fields: Record<string, unknown>): Record<string, unknown> {
  // Copied only when there is an Error to replace: most lines (a task line each transition) have none.
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error) {
      out ??= { ...fields };
      out[key] = { name: value.name, message: value.message };
    }
  }
  return out ?? fields;
}

let isoAt = Number.NaN;
let iso = "";

/** The time as ISO text, formatted once per millisecond: a busy server logs many lines in one. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

/** `{"time":…,"level":…,"msg":…,<fields>}` with one stringify of the fields, not of a merged copy. */
function jsonLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const rest = JSON.stringify(fields);
  const head = `{"time":"${isoNow()}","level":"${level}","msg":${JSON.stringify(message)}`;
  return rest === "{}" ? `${head}}` : `${head},${rest.slice(1)}`;
}

function pretty(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const time = isoNow().slice(11, 23);
  const extras = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${time} ${COLOURS[level]}${level.padEnd(5)}\x1b[0m ${message}${extras ? ` \x1b[2m${extras}\x1b[0m` : ""}`;
}

/**
 * The service's log: one JSON object per line on stdout (for collectors), or a coloured line
 * for people at a terminal. Levels below `level` are dropped before any formatting. `file`, when
 * given, gets every line as JSON whatever the format (a log file is read by programs).
 */
export function createServiceLogger(
  level: LogLevel,
  format: LogFormat,
  write: Write = console.log,
  file?: Write,
): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit =
    (at: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (LOG_LEVELS.indexOf(at) < threshold) return;
      const clean = errorFields(fields);
      const json = format === "json" || file ? jsonLine(at, message, clean) : "";
      write(format === "json" ? json : pretty(at, message, clean));
      file?.(json);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}
