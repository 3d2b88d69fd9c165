import { statSync } from "node:fs";
import { resolve } from "node:path";
import { ANY_HOST, checkAllowedHost, LOOPBACK_HOSTS } from "../http/allowed-hosts.ts";
import { ConfigError } from "./config-error.ts";

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Items of repeated flags that may each hold a comma-separated list, or else of a variable. */
function items(flags: string[] | undefined, variable: string | undefined): string[] | undefined {
  const given =
    flags !== undefined && flags.length > 0 ? flags : variable === undefined ? undefined : [variable];
  return given
    ?.flatMap((value) => value.split(","))
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/**
 * --allowed-hosts (repeatable, comma-separated) / KILN_ALLOWED_HOSTS. The default depends on
 * the address kiln binds: on loopback, the loopback names (and that address) with any port, so
 * a page whose DNS name was pointed at 127.0.0.1 is refused; elsewhere any host (undefined),
 * since kiln cannot know the names it is reached by.
 */
export function allowedHosts(
  flags: string[] | undefined,
  variable: string | undefined,
  bindHost: string,
): string[] | undefined {
  const given = items(flags, variable);
  if (given !== undefined) {
    if (given.length === 0)
      throw new ConfigError("--allowed-hosts is empty: give host names, or * for any host");
    try {
      const checked = given.map(checkAllowedHost);
      return checked.includes(ANY_HOST) ? undefined : checked;
    } catch (error) {
      throw new ConfigError(`--allowed-hosts: ${(error as Error).message}`);
    }
  }
  if (!isLoopback(bindHost)) return undefined;
  const bound = bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost;
  return [...new Set([...LOOPBACK_HOSTS, bound.toLowerCase()])];
}

/**
 * --files-root (repeatable) / KILN_FILES_ROOTS (comma-separated): the directories the built-in
 * file tasks may use, as absolute paths; none by default, which disables them.
 */
export function filesRoots(flags: string[] | undefined, variable: string | undefined): string[] {
  const given = items(flags, variable) ?? [];
  return given.map((root) => {
    const path = resolve(root);
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new ConfigError(`--files-root ${root} does not exist`);
    }
    if (!isDirectory) throw new ConfigError(`--files-root ${root} is not a directory`);
    return path;
  });
}
