import { extname } from "node:path";

export interface ExtensionTally {
  files: number;
  bytes: number;
}

/**
 * Where a directory walk stands: plain JSON, so that it can be a checkpoint. `pending` holds
 * the directories found but not read yet; the counts cover everything read so far.
 */
export interface WalkState {
  pending: string[];
  files: number;
  /** Every directory found, the root included. */
  directories: number;
  /** Counted, never followed. */
  symlinks: number;
  /** Sockets, FIFOs, devices. */
  others: number;
  /** Apparent size of the regular files. */
  bytes: number;
  /** Directories that could not be read and were skipped. */
  unreadable: number;
  byExtension: Record<string, ExtensionTally>;
}

export function freshWalk(root: string): WalkState {
  return {
    pending: [root],
    files: 0,
    directories: 1,
    symlinks: 0,
    others: 0,
    bytes: 0,
    unreadable: 0,
    byExtension: {},
  };
}

/** Entries seen below the root. */
export function entriesSeen(state: WalkState): number {
  return state.directories - 1 + state.files + state.symlinks + state.others;
}

const COUNTS = ["files", "directories", "symlinks", "others", "bytes", "unreadable"] as const;

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isTally(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { files, bytes } = value as Record<string, unknown>;
  return isCount(files) && isCount(bytes);
}

/** A saved checkpoint comes from the database: check its shape before trusting it. */
export function isWalkState(value: unknown): value is WalkState {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const { pending, byExtension } = record;
  return (
    Array.isArray(pending) &&
    pending.every((path) => typeof path === "string") &&
    COUNTS.every((key) => isCount(record[key])) &&
    typeof byExtension === "object" &&
    byExtension !== null &&
    Object.values(byExtension).every(isTally)
  );
}

/**
 * Anything that does not look like a usual extension is pooled: names such as
 * `report.2024-06-01T10:00` or `x.<uuid>` would otherwise grow the checkpoint by one key each.
 */
const USUAL_EXTENSION = /^\.[a-z0-9_+-]{1,15}$/;

export function extensionOf(name: string): string {
  const extension = extname(name).toLowerCase();
  if (extension === "") return "(none)";
  return USUAL_EXTENSION.test(extension) ? extension : "(other)";
}

export function addFile(state: WalkState, name: string, bytes: number): void {
  const extension = extensionOf(name);
  const tally = state.byExtension[extension] ?? { files: 0, bytes: 0 };
  tally.files += 1;
  tally.bytes += bytes;
  state.byExtension[extension] = tally;
  state.files += 1;
  state.bytes += bytes;
}

export function topExtensions(
  byExtension: Record<string, ExtensionTally>,
  limit: number,
): Array<ExtensionTally & { extension: string }> {
  return Object.entries(byExtension)
    .map(([extension, tally]) => ({ extension, ...tally }))
    .sort((a, b) => b.bytes - a.bytes || b.files - a.files || a.extension.localeCompare(b.extension))
    .slice(0, limit);
}
