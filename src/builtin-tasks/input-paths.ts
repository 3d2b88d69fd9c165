import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { UnrecoverableError } from "../task/index.ts";

/** Error codes that another attempt cannot fix: the task fails at once instead of retrying. */
const PERMANENT: Record<string, string> = {
  ENOENT: "does not exist",
  ENOTDIR: "does not exist (a parent is not a directory)",
  EACCES: "is not accessible (permission denied)",
  EPERM: "is not accessible (operation not permitted)",
  ENAMETOOLONG: "has a name that is too long",
  ELOOP: "has too many levels of symbolic links",
};

function codeOf(thrown: unknown): string | undefined {
  if (typeof thrown !== "object" || thrown === null || !("code" in thrown)) return undefined;
  return typeof thrown.code === "string" ? thrown.code : undefined;
}

/** Turns a file-system error about `what` into an `UnrecoverableError` when retrying cannot help. */
export function classifyFsError(thrown: unknown, what: string): unknown {
  const code = codeOf(thrown);
  const reason = code === undefined ? undefined : PERMANENT[code];
  return reason === undefined ? thrown : new UnrecoverableError(`${what} ${reason}`, { cause: thrown });
}

export async function statPath(path: string, what: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (thrown) {
    throw classifyFsError(thrown, `${what} ${path}`);
  }
}

export async function requireRegularFile(path: string, what: string): Promise<Stats> {
  const stats = await statPath(path, what);
  if (stats.isDirectory()) throw new UnrecoverableError(`${what} ${path} is a directory, not a file`);
  if (!stats.isFile()) throw new UnrecoverableError(`${what} ${path} is not a regular file`);
  return stats;
}

export async function requireDirectory(path: string, what: string): Promise<Stats> {
  const stats = await statPath(path, what);
  if (!stats.isDirectory()) throw new UnrecoverableError(`${what} ${path} is not a directory`);
  return stats;
}
