import {
  CLIENT_FLAGS,
  type ClientConfig,
  clientConfig,
  type Env,
  type FlagSpec,
  parseFlags,
} from "./args.ts";
import { KilnClient } from "./http.ts";

/** One `kiln <name>` subcommand. `run` resolves with the exit code. */
export interface Command {
  name: string;
  /** What follows the name: arguments and flags, for help and usage errors. */
  synopsis: string;
  summary: string;
  run(args: string[], env: Env): Promise<number>;
}

export function usageLine(name: string, synopsis: string): string {
  return `usage: kiln ${name}${synopsis ? ` ${synopsis}` : ""}`;
}

export const CLIENT_FLAGS_HELP = [
  "  --url URL     the kiln server (env KILN_URL, default http://127.0.0.1:3000)",
  "  --token T     sent as Authorization: Bearer T (env KILN_TOKEN)",
  "  --token-file F  the token read from a file, kept out of ps (env KILN_TOKEN_FILE)",
].join("\n");

/** `kiln <name> --help`. */
export function commandHelp(command: Pick<Command, "name" | "synopsis" | "summary">, flags: string): string {
  return `${usageLine(command.name, command.synopsis)}\n\n${command.summary}${flags ? `\n\n${flags}` : ""}`;
}

/**
 * Parses a client command's arguments: its own flags plus --url/--token/--help. Answers
 * undefined after printing help, so the command just returns 0.
 */
export function parseClientArgs<const F extends FlagSpec>(
  command: Pick<Command, "name" | "synopsis" | "summary">,
  args: string[],
  env: Env,
  flags: F,
  flagsHelp: string,
) {
  const usage = usageLine(command.name, command.synopsis);
  const parsed = parseFlags(args, { ...CLIENT_FLAGS, ...flags }, usage);
  // `values` is generic in F here; --help is always among the flags (CLIENT_FLAGS).
  if ((parsed.values as { help?: boolean }).help) {
    console.log(commandHelp(command, [flagsHelp, CLIENT_FLAGS_HELP].filter(Boolean).join("\n")));
    return undefined;
  }
  const config: ClientConfig = clientConfig(parsed.values, env, usage);
  return { ...parsed, usage, client: new KilnClient(config) };
}

/** Machine output: the server's JSON as it came. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
