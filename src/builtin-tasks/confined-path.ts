import { constants as fs, type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { type FileAccess, UnrecoverableError } from "../task/index.ts";
import { classifyFsError } from "./input-paths.ts";

/** Flags that refuse to open a symlink in the last component: a path checked as real stays real. */
export const READ_NO_FOLLOW = fs.O_RDONLY | fs.O_NOFOLLOW;
export const UPDATE_NO_FOLLOW = fs.O_RDWR | fs.O_NOFOLLOW;
export const CREATE_NEW_NO_FOLLOW = fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW;
/** Files the built-in tasks create: for their owner only (the umask may only take more away). */
export const CREATED_FILE_MODE = 0o600;

const DISABLED =
  "file tasks are disabled: kiln was started without a files root; start it with --files-root <dir> " +
  "(the TaskManager option fileRoots) to let the built-in file tasks use that directory";

function within(path: string, directory: string): boolean {
  return path === directory || path.startsWith(directory.endsWith(sep) ? directory : directory + sep);
}

/** A protected path covers itself, what lies below it, and names that extend it (`kiln.db-wal`). */
function covers(protectedPath: string, path: string): boolean {
  return (
    within(path, protectedPath) ||
    path.startsWith(`${protectedPath}-`) ||
    path.startsWith(`${protectedPath}.`)
  );
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** True when a protected path covers `path` (a real path). */
export function isProtectedPath(access: FileAccess, path: string): boolean {
  return access.protectedPaths.some((protectedPath) => covers(protectedPath, path));
}

/** Throws unless `real` lies in a root and no protected path covers it. */
function checkPlace(access: FileAccess, real: string, described: string): void {
  if (!access.roots.some((root) => within(real, root))) {
    throw new UnrecoverableError(`${described} is outside the files roots (${access.roots.join(", ")})`);
  }
  if (isProtectedPath(access, real)) {
    throw new UnrecoverableError(
      `${described} is one of kiln's own files (its database, a key, token or task file) or a system path; file tasks never touch them`,
    );
  }
}

/**
 * Throws when `stats` is the same file as a protected one under another name (a hard link):
 * a path check cannot see that.
 */
export async function checkNotProtectedFile(
  access: FileAccess,
  stats: Stats,
  described: string,
): Promise<void> {
  for (const path of access.protectedPaths) {
    const protectedStats = await stat(path).catch(() => undefined);
    if (protectedStats?.isFile() && sameFile(protectedStats, stats)) {
      throw new UnrecoverableError(
        `${described} is another name for one of kiln's own files; file tasks never touch them`,
      );
    }
  }
}

/**
 * The real path (symlinks resolved) a built-in file task may use for `path`, which names
 * `what` in messages. `existing`: the path must exist and is resolved whole. `new`: a file the
 * task creates or replaces: its folder is resolved and must exist; when the entry already
 * exists, what it points to must be allowed too. Refused, as an UnrecoverableError, when no
 * root is configured, outside every root, or on a protected path.
 */
export async function confinedPath(
  access: FileAccess,
  path: string,
  what: string,
  kind: "existing" | "new",
): Promise<string> {
  if (access.roots.length === 0) throw new UnrecoverableError(DISABLED);
  const described = `${what} ${path}`;
  const absolute = resolve(path);
  let real: string;
  if (kind === "existing") {
    try {
      real = await realpath(absolute);
    } catch (thrown) {
      throw classifyFsError(thrown, described);
    }
  } else {
    let folder: string;
    try {
      folder = await realpath(dirname(absolute));
    } catch (thrown) {
      throw classifyFsError(thrown, `${what} folder ${dirname(path)}`);
    }
    real = join(folder, basename(absolute));
    const target = await realpath(real).catch(() => undefined);
    if (target !== undefined && target !== real) checkPlace(access, target, described);
  }
  checkPlace(access, real, described);
  const stats = await stat(real).catch(() => undefined);
  if (stats) await checkNotProtectedFile(access, stats, described);
  return real;
}
