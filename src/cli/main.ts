#!/usr/bin/env bun
import { ApiError, CliError, UsageError } from "./client/errors.ts";
import { findCommand, helpText } from "./client/registry.ts";
import { TASK_PROCESS_COMMAND } from "./compiled.ts";
import { ConfigError, parseServeConfig } from "./config.ts";
import { versionCommand } from "./local/local.ts";
import { SERVE_COMMAND, serveHelp } from "./serve-help.ts";

async function printHelp(topic: string | undefined): Promise<number> {
  if (topic === "serve") {
    console.log(serveHelp());
    return 0;
  }
  const command = topic === undefined ? undefined : findCommand(topic);
  if (command) return command.run(["--help"], process.env);
  if (topic !== undefined)
    throw new UsageError(`unknown command "${topic}"`, "run `kiln help` for the list of commands");
  console.log(helpText(SERVE_COMMAND));
  return 0;
}

/** Resolves with the exit code, or undefined for `serve`, which runs until a signal. */
async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return printHelp(rest[0]);
    case "--version":
      return versionCommand.run([], process.env);
    case "serve": {
      if (rest.includes("--help") || rest.includes("-h")) return printHelp("serve");
      const config = parseServeConfig(rest, process.env, process.stdout.isTTY === true);
      // Loaded only here: the engine and Elysia are heavy and no other command needs them.
      const { serve } = await import("./serve.ts");
      await serve(config);
      return undefined;
    }
    case TASK_PROCESS_COMMAND:
      // Not for people: `kiln serve` starts the binary this way for tasks with isolation = "process".
      await import("../worker/process-bundled.ts");
      return undefined;
  }
  const found = findCommand(command);
  if (!found)
    throw new UsageError(`unknown command "${command}"`, "run `kiln help` for the list of commands");
  return found.run(rest, process.env);
}

/** One line on stderr for every failure the user can act on; a stack only for kiln's own bugs. */
function report(error: unknown): number {
  if (error instanceof UsageError) {
    console.error(`kiln: ${error.message}\n${error.hint}`);
    return 2;
  }
  if (error instanceof ConfigError) {
    console.error(`kiln: ${error.message}`);
    return 2;
  }
  if (error instanceof ApiError) {
    console.error(`kiln: ${error.message} (${error.code})`);
    return 1;
  }
  if (error instanceof CliError) {
    console.error(`kiln: ${error.message}`);
    return 1;
  }
  console.error(error);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);
