import { SERVE_FLAGS, type ServeFlag } from "./serve-flags.ts";

export const SERVE_COMMAND = {
  synopsis: "[flags]",
  summary: "Run the task engine and its REST API until SIGINT or SIGTERM (a second one exits at once).",
};

/** `kiln serve --help`: every flag of the table in config.ts, with its variable and default. */
export function serveHelp(): string {
  const rows = Object.entries(SERVE_FLAGS).map(([name, flag]: [string, ServeFlag]) => ({
    flag: `--${name} ${flag.value}${flag.multiple ? " (repeatable)" : ""}`,
    env: `${flag.env}${flag.multiple ? " (comma-separated)" : ""}`,
    flagDefault: flag.default,
    help: flag.help,
  }));
  const flagWidth = Math.max(...rows.map((row) => row.flag.length));
  const envWidth = Math.max(...rows.map((row) => row.env.length));
  const line = (flag: string, env: string, value: string) =>
    `  ${flag.padEnd(flagWidth)}  ${env.padEnd(envWidth)}  ${value}`;
  return [
    `usage: kiln serve ${SERVE_COMMAND.synopsis}`,
    "",
    SERVE_COMMAND.summary,
    "",
    "Each flag may be given by its environment variable instead; the flag wins. A repeatable flag",
    "replaces its variable's whole list.",
    "",
    "--node-name and the four cluster timings (--lease-ms, --heartbeat-ms, --rescue-ms,",
    "--claim-poll-ms) matter when several nodes share a PostgreSQL database. SQLite accepts them too:",
    "there they change nothing but the node name GET /nodes shows.",
    "",
    line("FLAG", "ENVIRONMENT VARIABLE", "DEFAULT"),
    ...rows.flatMap((row) => [line(row.flag, row.env, row.flagDefault), `      ${row.help}`]),
  ].join("\n");
}
