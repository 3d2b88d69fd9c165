import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { FileAccess } from "../../task/index.ts";

/** Always protected: `/proc/self/environ` and friends look like regular files and hold the environment. */
const SYSTEM_PROTECTED = ["/proc"];

/** The real path of `path`, or of its parent joined with its name when it does not exist (yet). */
function realOrPlanned(path: string): string | undefined {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return undefined;
    }
  }
}

function realDirectory(root: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(root));
  } catch {
    throw new Error(`file root ${root} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`file root ${root} is not a directory`);
  return real;
}

/**
 * What the built-in file tasks may use: the roots as real paths (so a symlinked root still
 * matches the real paths tasks resolve), and the paths to keep them away from, each both as
 * given and as its real path: the database (its -wal, -shm and lock files extend its name),
 * `protectedFiles` (key and token files, the task files), `/proc`.
 */
export function resolveFileAccess(
  roots: readonly string[] = [],
  protectedFiles: readonly string[] = [],
  dbPath: string | undefined = undefined,
): FileAccess {
  const given = [...(dbPath === undefined || dbPath === ":memory:" ? [] : [dbPath]), ...protectedFiles];
  const protectedPaths = new Set<string>(SYSTEM_PROTECTED);
  for (const path of given) {
    protectedPaths.add(resolve(path));
    const real = realOrPlanned(path);
    if (real !== undefined) protectedPaths.add(real);
  }
  return { roots: [...new Set(roots.map(realDirectory))], protectedPaths: [...protectedPaths] };
}
