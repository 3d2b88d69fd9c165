import type { Stats } from "node:fs";
import { type FileHandle, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { BaseTask, type TaskOutcome, UnrecoverableError } from "../task/index.ts";
import { ChunkBytesParam, DEFAULT_CHUNK_BYTES } from "./chunk-bytes.ts";
import {
  CREATE_NEW_NO_FOLLOW,
  CREATED_FILE_MODE,
  checkNotProtectedFile,
  confinedPath,
  READ_NO_FOLLOW,
  UPDATE_NO_FOLLOW,
} from "./confined-path.ts";
import { classifyFsError, requireDirectory, requireRegularFile } from "./input-paths.ts";
import { crc32Hex, type ReadPosition, resumeFrom, startOf } from "./read-position.ts";

const CopyFileParams = Type.Object({
  source: Type.String({ minLength: 1, description: "The file to copy; it must lie under a files root." }),
  destination: Type.String({
    minLength: 1,
    description:
      "Where the copy goes, under a files root; replaced if it exists. Written as `<destination>.partial` " +
      "until complete; created readable by kiln's user only (mode 0600).",
  }),
  chunkBytes: ChunkBytesParam,
});

const CopyFileResult = Type.Object({
  bytes: Type.Integer({ minimum: 0 }),
  crc32: Type.String({ pattern: "^[0-9a-f]{8}$", description: "CRC-32 of the copied bytes, lowercase hex." }),
});

type Params = Static<typeof CopyFileParams>;
type Result = Static<typeof CopyFileResult>;

/** Copies a file chunk by chunk into a `.partial` file, resumable from the last chunk written. */
export class CopyFileTask extends BaseTask<Params, Result, ReadPosition> {
  static override taskName = "copy-file";
  static override description = "Copies a file in resumable chunks and reports its CRC-32.";
  static override params = CopyFileParams;
  static override result = CopyFileResult;

  #source: FileHandle | undefined;
  #partial: FileHandle | undefined;
  #sourceStats: Stats | undefined;
  /** Real paths, checked against the files roots in pre(). */
  #paths: { destination: string; partial: string } | undefined;

  override async pre(params: Params): Promise<void> {
    const access = this.fileAccess;
    const sourcePath = await confinedPath(access, params.source, "source", "existing");
    const destination = await confinedPath(access, params.destination, "destination", "new");
    const partial = await confinedPath(access, `${params.destination}.partial`, "destination", "new");
    await requireRegularFile(sourcePath, "source");
    await requireDirectory(dirname(destination), "destination folder");
    const existing = await stat(destination).catch(() => undefined);
    if (existing?.isDirectory()) {
      throw new UnrecoverableError(`destination ${params.destination} is a directory`);
    }
    try {
      this.#source = await open(sourcePath, READ_NO_FOLLOW);
    } catch (thrown) {
      throw classifyFsError(thrown, `source ${params.source}`);
    }
    // The open file's own stats: the path may have been replaced since it was checked.
    this.#sourceStats = await this.#source.stat();
    await checkNotProtectedFile(access, this.#sourceStats, `source ${params.source}`);
    this.#paths = { destination, partial };
  }

  override async run(params: Params): Promise<Result> {
    const source = this.#source;
    const stats = this.#sourceStats;
    const paths = this.#paths;
    if (!source || !stats || !paths) throw new Error("copy-file: run() called without pre()");
    const partialPath = paths.partial;
    let position = await this.#openPartial(partialPath, stats);
    const partial = this.#partial;
    if (!partial) throw new Error("copy-file: the partial file is not open");

    const buffer = Buffer.allocUnsafe(params.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    this.progress(position.offset, Math.max(stats.size, position.offset));
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length, position.offset);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      await writeAll(partial, chunk, position.offset);
      position = {
        ...position,
        offset: position.offset + bytesRead,
        crc32: Bun.hash.crc32(chunk, position.crc32),
      };
      this.progress(position.offset, Math.max(stats.size, position.offset));
      await this.checkpoint(position);
    }

    // The rename must not expose a file whose bytes are still only in the page cache.
    await partial.sync();
    this.#partial = undefined;
    await partial.close();
    await rename(partialPath, paths.destination);
    const crc32 = crc32Hex(position.crc32);
    this.log("info", `copied ${position.offset} bytes to ${params.destination} (crc32 ${crc32})`);
    return { bytes: position.offset, crc32 };
  }

  /**
   * The partial file keeps what earlier runs wrote, though possibly more than their last
   * checkpoint (which may lag behind the writes): cut it back to the checkpoint and go on
   * from there, or start over when it is shorter than that, missing, or not a plain file of
   * its own (a symlink is not followed; a hard link could be another file's name).
   */
  async #openPartial(path: string, stats: Stats): Promise<ReadPosition> {
    const { position, dropped } = resumeFrom(this.state, stats);
    if (dropped) this.log("warn", `starting over: ${dropped}`);
    if (position.offset > 0) {
      const handle = await open(path, UPDATE_NO_FOLLOW).catch(() => undefined);
      if (handle) {
        this.#partial = handle;
        const partial = await handle.stat();
        if (partial.isFile() && partial.nlink === 1 && partial.size >= position.offset) {
          await handle.truncate(position.offset);
          this.log("info", `resuming at byte ${position.offset} of ${stats.size}`);
          return position;
        }
        this.#partial = undefined;
        await handle.close();
      }
      this.log("warn", `starting over: ${path} is missing or shorter than the saved offset`);
    }
    try {
      // Whatever is there (a stale partial, a link someone left) goes: the copy is a new file.
      await rm(path, { force: true });
      this.#partial = await open(path, CREATE_NEW_NO_FOLLOW, CREATED_FILE_MODE);
    } catch (thrown) {
      throw classifyFsError(thrown, `destination ${path}`);
    }
    this.log("info", `copying ${stats.size} bytes`);
    return startOf(stats);
  }

  /** Closes the files whatever happened; the partial file stays so that a later run can resume it. */
  override async post(_outcome: TaskOutcome<Result>): Promise<void> {
    const handles = [this.#source, this.#partial];
    this.#source = undefined;
    this.#partial = undefined;
    await Promise.all(handles.map((handle) => handle?.close()));
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const result = await handle.write(chunk, written, chunk.length - written, position + written);
    written += result.bytesWritten;
  }
}
