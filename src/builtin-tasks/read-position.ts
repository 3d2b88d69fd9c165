import type { Stats } from "node:fs";

/**
 * How far a chunked read of a file has got. `size` and `mtimeMs` identify the file that was
 * being read: a saved position is only worth resuming from while they still match, or the
 * result would mix bytes of two versions of the file.
 */
export interface ReadPosition {
  offset: number;
  crc32: number;
  size: number;
  mtimeMs: number;
}

function isReadPosition(value: unknown): value is ReadPosition {
  if (typeof value !== "object" || value === null) return false;
  const { offset, crc32, size, mtimeMs } = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(offset) &&
    Number.isInteger(crc32) &&
    Number.isSafeInteger(size) &&
    typeof mtimeMs === "number" &&
    (offset as number) >= 0 &&
    (crc32 as number) >= 0 &&
    (crc32 as number) <= 0xffff_ffff
  );
}

export function startOf(stats: Stats): ReadPosition {
  return { offset: 0, crc32: 0, size: stats.size, mtimeMs: stats.mtimeMs };
}

/**
 * The position to continue from: the saved one when it still describes `stats`' file, else
 * the start, with the reason the saved one was dropped (undefined when nothing was saved).
 */
export function resumeFrom(saved: unknown, stats: Stats): { position: ReadPosition; dropped?: string } {
  const fresh = startOf(stats);
  if (saved === undefined) return { position: fresh };
  if (!isReadPosition(saved)) return { position: fresh, dropped: "the saved checkpoint is malformed" };
  if (saved.size !== stats.size || saved.mtimeMs !== stats.mtimeMs) {
    return { position: fresh, dropped: "the file changed since the saved checkpoint" };
  }
  if (saved.offset > stats.size) {
    return { position: fresh, dropped: "the saved offset lies beyond the end of the file" };
  }
  return { position: saved };
}

export function crc32Hex(crc32: number): string {
  return crc32.toString(16).padStart(8, "0");
}
