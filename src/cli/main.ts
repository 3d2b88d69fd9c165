#!/usr/bin/env bun
import { ConfigError, parseServeConfig } from "./config.ts";
import { serve } from "./serve.ts";

const USAGE =
  "usage: kiln serve [--host 127.0.0.1] [--port 3000] [--db ./kiln.db] [--concurrency N] [--tasks-dir DIR]";

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      await serve(parseServeConfig(rest, process.env));
      return;
    case undefined:
    case "help":
    case "--help":
      console.log(USAGE);
      return;
    default:
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`kiln: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
