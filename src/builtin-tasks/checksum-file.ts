import type { Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { type Static, Type } from "@sinclair/typebox";
import { BaseTask, type TaskOutcome } from "../task/index.ts";
import { ChunkBytesParam, DEFAULT_CHUNK_BYTES } from "./chunk-bytes.ts";
import { confinedPath, READ_NO_FOLLOW } from "./confined-path.ts";
import { classifyFsError, requireRegularFile } from "./input-paths.ts";
import { crc32Hex, type ReadPosition, resumeFrom } from "./read-position.ts";

const ChecksumFileParams = Type.Object({
  path: Type.String({ minLength: 1, description: "The file to checksum; it must lie under a files root." }),
  chunkBytes: ChunkBytesParam,
});

const ChecksumFileResult = Type.Object({
  bytes: Type.Integer({ minimum: 0 }),
  crc32: Type.String({ pattern: "^[0-9a-f]{8}$", description: "CRC-32 of the file, lowercase hex." }),
});

type Params = Static<typeof ChecksumFileParams>;
type Result = Static<typeof ChecksumFileResult>;

/** Computes a file's CRC-32 chunk by chunk, resumable from the last chunk read. */
export class ChecksumFileTask extends BaseTask<Params, Result, ReadPosition> {
  static override taskName = "checksum-file";
  static override description = "Computes the CRC-32 of a file in resumable chunks.";
  static override params = ChecksumFileParams;
  static override result = ChecksumFileResult;

  #file: FileHandle | undefined;
  #stats: Stats | undefined;

  override async pre(params: Params): Promise<void> {
    const path = await confinedPath(this.fileAccess, params.path, "file", "existing");
    await requireRegularFile(path, "file");
    try {
      this.#file = await open(path, READ_NO_FOLLOW);
    } catch (thrown) {
      throw classifyFsError(thrown, `file ${params.path}`);
    }
    this.#stats = await this.#file.stat();
  }

  override async run(params: Params): Promise<Result> {
    const file = this.#file;
    const stats = this.#stats;
    if (!file || !stats) throw new Error("checksum-file: run() called without pre()");
    let { position, dropped } = resumeFrom(this.state, stats);
    if (dropped) this.log("warn", `starting over: ${dropped}`);
    else if (position.offset > 0) this.log("info", `resuming at byte ${position.offset} of ${stats.size}`);

    const buffer = Buffer.allocUnsafe(params.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    this.progress(position.offset, Math.max(stats.size, position.offset));
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position.offset);
      if (bytesRead === 0) break;
      position = {
        ...position,
        offset: position.offset + bytesRead,
        crc32: Bun.hash.crc32(buffer.subarray(0, bytesRead), position.crc32),
      };
      this.progress(position.offset, Math.max(stats.size, position.offset));
      await this.checkpoint(position);
    }
    const crc32 = crc32Hex(position.crc32);
    this.log("info", `${params.path}: ${position.offset} bytes, crc32 ${crc32}`);
    return { bytes: position.offset, crc32 };
  }

  override async post(_outcome: TaskOutcome<Result>): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }
}
