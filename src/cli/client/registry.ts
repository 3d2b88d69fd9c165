import { checkCommand } from "../local/check.ts";
import { migrateCommand, versionCommand } from "../local/local.ts";
import { recoverCommand } from "../local/recover.ts";
import { rekeyCommand } from "../local/rekey.ts";
import { bulkCommand } from "./bulk.ts";
import { CLIENT_FLAGS_HELP, type Command } from "./command.ts";
import { controlCommands } from "./control.ts";
import { deleteCommand } from "./delete.ts";
import { healthCommand } from "./health.ts";
import { logsCommand } from "./logs.ts";
import { nodesCommand } from "./nodes.ts";
import { schedulesCommand } from "./schedules.ts";
import { lsCommand, showCommand, submitCommand, typesCommand } from "./tasks.ts";
import { watchCommand } from "./watch.ts";

/** Every command but `serve`, which main.ts starts itself. In the order help lists them. */
export const COMMANDS: readonly Command[] = [
  migrateCommand,
  rekeyCommand,
  checkCommand,
  recoverCommand,
  typesCommand,
  submitCommand,
  lsCommand,
  showCommand,
  ...controlCommands,
  deleteCommand,
  bulkCommand,
  schedulesCommand,
  nodesCommand,
  logsCommand,
  watchCommand,
  healthCommand,
  versionCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** `kiln help`: one line per command. */
export function helpText(serve: { synopsis: string; summary: string }): string {
  const rows = [{ name: "serve", ...serve }, ...COMMANDS];
  const width = Math.max(...rows.map((row) => row.name.length));
  const lines = rows.map((row) => `  ${row.name.padEnd(width)}  ${row.summary}`);
  return [
    "usage: kiln <command> [flags]",
    "",
    "commands:",
    ...lines,
    "",
    "commands that talk to a server take:",
    CLIENT_FLAGS_HELP,
    "",
    "run `kiln <command> --help` for a command's flags",
  ].join("\n");
}
