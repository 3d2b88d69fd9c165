// The one table of `kiln serve` flags, with the values some of them take.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** `rotate`: kiln renames the file at a size; `watched`: logrotate does, and SIGHUP reopens it. */
export const LOG_FILE_MODES = ["rotate", "watched"] as const;
export type LogFileMode = (typeof LOG_FILE_MODES)[number];

export interface ServeFlag {
  /** The value's name in help: `--port N`. */
  value: string;
  /** Read when the flag is not given. */
  env: string;
  /** The default, as help and the README show it; where it is a value, parsing uses it too. */
  default: string;
  help: string;
  /** Repeatable; its environment variable is a comma-separated list, which the flags replace. */
  multiple?: true;
}

/**
 * Every flag of `kiln serve`: parsing, the environment variables and `kiln serve --help` all
 * come from here, and a test holds the README's table to it.
 */
export const SERVE_FLAGS = {
  host: { value: "HOST", env: "KILN_HOST", default: "127.0.0.1", help: "address to listen on" },
  port: { value: "N", env: "KILN_PORT", default: "3000", help: "port to listen on; 0 picks a free one" },
  db: {
    value: "PATH|URL",
    env: "KILN_DB",
    default: "./kiln.db",
    help: "the SQLite database file, or a postgres:// URL",
  },
  concurrency: {
    value: "N",
    env: "KILN_CONCURRENCY",
    default: "CPU cores, at least 2",
    help: "tasks running at once",
  },
  "tasks-dir": {
    value: "DIR",
    env: "KILN_TASKS_DIR",
    default: "none",
    help: "every *.ts, *.js, *.mjs task file in DIR is loaded at start-up",
  },
  token: {
    value: "T",
    env: "KILN_TOKEN",
    default: "none",
    help: "admin token: the API then needs Authorization: Bearer <token>",
  },
  "token-file": {
    value: "PATH",
    env: "KILN_TOKEN_FILE",
    default: "none",
    help: "the admin token, read from a file (not visible in ps); not with --token",
  },
  "read-token": {
    value: "T",
    env: "KILN_READ_TOKENS",
    default: "none",
    help: "a token that may only read (needs --token)",
    multiple: true,
  },
  "read-token-file": {
    value: "PATH",
    env: "KILN_READ_TOKEN_FILES",
    default: "none",
    help: "a read token, read from a file",
    multiple: true,
  },
  "cors-origin": {
    value: "ORIGIN",
    env: "KILN_CORS_ORIGINS",
    default: "none: no CORS headers",
    help: "an origin (https://host[:port]) whose browser pages may call the API",
    multiple: true,
  },
  "allowed-hosts": {
    value: "HOST",
    env: "KILN_ALLOWED_HOSTS",
    default: "localhost, 127.0.0.1, [::1] when bound to loopback; else any",
    help: "a Host name requests may use (name, name:port, [v6]; * for any); another is a 421",
    multiple: true,
  },
  "files-root": {
    value: "DIR",
    env: "KILN_FILES_ROOTS",
    default: "none: the file tasks are disabled",
    help: "a directory the built-in file tasks may read and write under",
    multiple: true,
  },
  "max-body-bytes": {
    value: "N",
    env: "KILN_MAX_BODY_BYTES",
    default: "1048576",
    help: "largest request body in bytes; a larger one is a 413",
  },
  "task-memory-limit": {
    value: "MB",
    env: "KILN_TASK_MEMORY_LIMIT",
    default: "none",
    help: "memory cap of each task run whose class sets no memoryLimitMb",
  },
  "log-level": {
    value: "LEVEL",
    env: "KILN_LOG_LEVEL",
    default: "info",
    help: `one of ${LOG_LEVELS.join(", ")}`,
  },
  "log-format": {
    value: "FORMAT",
    env: "KILN_LOG_FORMAT",
    default: "pretty on a terminal, else json",
    help: "json (one object per line on stdout) or pretty",
  },
  "encryption-key": {
    value: "K",
    env: "KILN_ENCRYPTION_KEY",
    default: "none",
    help: "task params, results and checkpoints and schedule params are stored encrypted with this key (32 bytes, base64 or hex)",
  },
  "encryption-key-file": {
    value: "PATH",
    env: "KILN_ENCRYPTION_KEY_FILE",
    default: "none",
    help: "the encryption key, read from a file; not with --encryption-key",
  },
  "decryption-key": {
    value: "K",
    env: "KILN_DECRYPTION_KEYS",
    default: "none",
    help: "a former key, only to read rows written with it",
    multiple: true,
  },
  "decryption-key-file": {
    value: "PATH",
    env: "KILN_DECRYPTION_KEY_FILES",
    default: "none",
    help: "a former key, read from a file",
    multiple: true,
  },
  retain: {
    value: "AGE",
    env: "KILN_RETAIN",
    default: "none: keep everything",
    help: "ended tasks older than AGE (30d, 12h, 15m, 90s) are deleted",
  },
  "max-result-bytes": {
    value: "N",
    env: "KILN_MAX_RESULT_BYTES",
    default: "1048576",
    help: "largest result a task may return, as JSON bytes; a larger one fails the task",
  },
  "max-checkpoint-bytes": {
    value: "N",
    env: "KILN_MAX_CHECKPOINT_BYTES",
    default: "1048576",
    help: "largest checkpoint state, as JSON bytes; a larger one fails the checkpoint call",
  },
  "max-log-line-bytes": {
    value: "N",
    env: "KILN_MAX_LOG_LINE_BYTES",
    default: "16384",
    help: "longest log line in bytes; a longer one is cut with a marker",
  },
  "log-file": {
    value: "PATH",
    env: "KILN_LOG_FILE",
    default: "none",
    help: "the service log's JSON lines are written to this file too",
  },
  "log-file-max-bytes": {
    value: "N",
    env: "KILN_LOG_FILE_MAX_BYTES",
    default: "10485760",
    help: "the log file is rotated when it would grow past N bytes (rotate mode)",
  },
  "log-file-backups": {
    value: "N",
    env: "KILN_LOG_FILE_BACKUPS",
    default: "5",
    help: "rotated files kept: PATH.1 (newest) to PATH.N",
  },
  "log-file-mode": {
    value: "MODE",
    env: "KILN_LOG_FILE_MODE",
    default: "rotate",
    help: "rotate (kiln rotates by size) or watched (kiln reopens PATH on SIGHUP, for logrotate)",
  },
  durability: {
    value: "MODE",
    env: "KILN_DURABILITY",
    default: "normal",
    help: "SQLite only: normal (a commit survives a crash of kiln) or full (an fsync at each commit: it survives a power loss too)",
  },
  "node-name": {
    value: "NAME",
    env: "KILN_NODE_NAME",
    default: "<host>-<pid>",
    help: "this node's name among the nodes sharing a PostgreSQL database (1 to 100 characters, no spaces, no /)",
  },
  "lease-ms": {
    value: "MS",
    env: "KILN_LEASE_MS",
    default: "15000",
    help: "PostgreSQL: a running task's claim lasts this long without a heartbeat; a dead node's tasks move after it",
  },
  "heartbeat-ms": {
    value: "MS",
    env: "KILN_HEARTBEAT_MS",
    default: "lease ÷ 3",
    help: "PostgreSQL: how often a node renews its leases; at most half the lease",
  },
  "rescue-ms": {
    value: "MS",
    env: "KILN_RESCUE_MS",
    default: "5000",
    help: "PostgreSQL: how often the leader looks for expired leases and dead nodes",
  },
  "claim-poll-ms": {
    value: "MS",
    env: "KILN_CLAIM_POLL_MS",
    default: "1000",
    help: "PostgreSQL: how often an idle node looks for ready tasks when no notification woke it",
  },
  webhook: {
    value: "URL",
    env: "KILN_WEBHOOK",
    default: "none",
    help: "every task transition is POSTed to URL, signed with KILN_WEBHOOK_SECRET",
    multiple: true,
  },
} as const satisfies Record<string, ServeFlag>;
