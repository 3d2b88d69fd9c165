import type { Stats } from "node:fs";
import { type FileHandle, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { BaseTask, type TaskOutcome, UnrecoverableError } from "../task/index.ts";
import { ChunkBytesParam, DEFAULT_CHUNK_BYTES } from "./chunk-bytes.ts";
import { classifyFsError, requireDirectory, requireRegularFile } from "./input-paths.ts";
import { crc32Hex, type ReadPosition, resumeFrom, startOf } from "./read-position.ts";

const CopyFileParams = Type.Object({
  source: Type.String({ minLength: 1, description: "The file to copy." }),
  destination: Type.String({
    minLength: 1,
    description:
      "Where the copy goes; replaced if it exists. Written as `<destination>.partial` until complete.",
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

  override async pre(params: Params): Promise<void> {
    await requireRegularFile(params.source, "source");
    await requireDirectory(dirname(params.destination), "destination folder");
    const existing = await stat(params.destination).catch(() => undefined);
    if (existing?.isDirectory()) {
      throw new UnrecoverableError(`destination ${params.destination} is a directory`);
    }
    try {
      this.#source = await open(params.source, "r");
    } catch (thrown) {
      throw classifyFsError(thrown, `source ${params.source}`);
    }
    // The open file's own stats: the path may have been replaced since it was checked.
    this.#sourceStats = await this.#source.stat();
  }

  override async run(params: Params): Promise<Result> {
    const source = this.#source;
    const stats = this.#sourceStats;
    if (!source || !stats) throw new Error("copy-file: run() called without pre()");
    const partialPath = `${params.destination}.partial`;
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
    await rename(partialPath, params.destination);
    const crc32 = crc32Hex(position.crc32);
    this.log("info", `copied ${position.offset} bytes to ${params.destination} (crc32 ${crc32})`);
    return { bytes: position.offset, crc32 };
  }

  /**
   * The partial file keeps what earlier runs wrote, though possibly more than their last
   * checkpoint (which may lag behind the writes): cut it back to the checkpoint and go on
   * from there, or start over when it is shorter than that or missing.
   */
  async #openPartial(path: string, stats: Stats): Promise<ReadPosition> {
    const { position, dropped } = resumeFrom(this.state, stats);
    if (dropped) this.log("warn", `starting over: ${dropped}`);
    if (position.offset > 0) {
      const handle = await open(path, "r+").catch(() => undefined);
      if (handle) {
        this.#partial = handle;
        const { size } = await handle.stat();
        if (size >= position.offset) {
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
      this.#partial = await open(path, "w");
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
