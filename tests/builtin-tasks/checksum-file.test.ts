import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Value } from "@sinclair/typebox/value";
import { ChecksumFileTask } from "../../src/builtin-tasks/index.ts";
import type { ReadPosition } from "../../src/builtin-tasks/read-position.ts";
import { UnrecoverableError } from "../../src/task/index.ts";
import {
  errorOf,
  makeTempDir,
  openFileCount,
  patternBytes,
  removeTempDir,
  resultOf,
  runTask,
} from "./harness.ts";

const CHUNK = 16 * 1024;
const SIZE = 40 * CHUNK + 777;

let dir: string;
let path: string;
let bytes: Uint8Array;

beforeEach(async () => {
  dir = await makeTempDir();
  path = join(dir, "data.bin");
  bytes = patternBytes(SIZE, 7);
  await writeFile(path, bytes);
});

afterEach(async () => {
  await removeTempDir(dir);
});

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}

describe("CRC-32 continuation", () => {
  test("Bun.hash.crc32 seeded with the previous value equals the CRC of the whole input", () => {
    let running = 0;
    for (let offset = 0; offset < bytes.length; offset += 5_000) {
      running = Bun.hash.crc32(bytes.subarray(offset, offset + 5_000), running);
    }
    expect(running).toBe(crc32(bytes));
    expect(running).toBe(Bun.hash.crc32(bytes));
    expect(hex(Bun.hash.crc32(new TextEncoder().encode("123456789")))).toBe("cbf43926");
  });
});

describe("checksum-file", () => {
  test("reports the size and the CRC-32 of the file as eight lowercase hex digits", async () => {
    const filesBefore = openFileCount();
    const { outcome, runtime } = await runTask(new ChecksumFileTask(), { path, chunkBytes: CHUNK });

    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: hex(crc32(bytes)) });
    expect(Value.Check(ChecksumFileTask.result, resultOf(outcome))).toBe(true);
    expect(runtime.states).toHaveLength(Math.ceil(SIZE / CHUNK));
    expect(runtime.progressReports.at(-1)?.done).toBe(SIZE);
    expect(openFileCount()).toBe(filesBefore);
  });

  test("pads a small CRC to eight digits", async () => {
    await writeFile(path, "665");
    expect(resultOf((await runTask(new ChecksumFileTask(), { path })).outcome)).toEqual({
      bytes: 3,
      crc32: "00081566",
    });
    await writeFile(path, "");
    expect(resultOf((await runTask(new ChecksumFileTask(), { path })).outcome)).toEqual({
      bytes: 0,
      crc32: "00000000",
    });
  });

  test("a stopped run resumes from its checkpoint without reading the done chunks again", async () => {
    const filesBefore = openFileCount();
    const first = await runTask(
      new ChecksumFileTask(),
      { path, chunkBytes: CHUNK },
      { stopAtCheckpoint: 10 },
    );
    expect(first.outcome.status).toBe("stopped");
    expect(openFileCount()).toBe(filesBefore);
    const saved = first.runtime.lastState as ReadPosition;
    expect(saved.offset).toBe(10 * CHUNK);
    expect(saved.crc32).toBe(crc32(bytes.subarray(0, saved.offset)));

    const second = await runTask(new ChecksumFileTask(), { path, chunkBytes: CHUNK }, { state: saved });
    expect(resultOf(second.outcome)).toEqual({ bytes: SIZE, crc32: hex(crc32(bytes)) });
    expect(Math.min(...second.runtime.progressReports.map((report) => report.done))).toBe(saved.offset);
    expect(second.runtime.states).toHaveLength(Math.ceil((SIZE - saved.offset) / CHUNK));
  });

  test("starts over when the file changed since the checkpoint", async () => {
    const first = await runTask(new ChecksumFileTask(), { path, chunkBytes: CHUNK }, { stopAtCheckpoint: 3 });
    const changed = patternBytes(SIZE + 5, 8);
    await writeFile(path, changed);

    const second = await runTask(
      new ChecksumFileTask(),
      { path, chunkBytes: CHUNK },
      { state: first.runtime.lastState },
    );
    expect(resultOf(second.outcome)).toEqual({ bytes: SIZE + 5, crc32: hex(crc32(changed)) });
    expect(second.runtime.logs.some((line) => line.level === "warn")).toBe(true);
  });

  test("ignores a malformed checkpoint", async () => {
    const { outcome, runtime } = await runTask(
      new ChecksumFileTask(),
      { path, chunkBytes: CHUNK },
      { state: { offset: -4, crc32: "abc" } },
    );
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: hex(crc32(bytes)) });
    expect(runtime.logs.some((line) => line.message.includes("malformed"))).toBe(true);
  });

  test("a missing file fails unrecoverably with its path in the message", async () => {
    const missing = join(dir, "missing.bin");
    const error = errorOf((await runTask(new ChecksumFileTask(), { path: missing })).outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(`file ${missing} does not exist`);
  });

  test("a directory fails unrecoverably", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder);
    const error = errorOf((await runTask(new ChecksumFileTask(), { path: folder })).outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toContain("is a directory");
  });
});
