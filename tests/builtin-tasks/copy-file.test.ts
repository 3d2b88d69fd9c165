import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFile, mkdir, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Value } from "@sinclair/typebox/value";
import { CopyFileTask } from "../../src/builtin-tasks/index.ts";
import type { ReadPosition } from "../../src/builtin-tasks/read-position.ts";
import { UnrecoverableError } from "../../src/task/index.ts";
import {
  errorOf,
  makeTempDir,
  openFileCount,
  patternBytes,
  readBytes,
  removeTempDir,
  resultOf,
  runTask,
} from "./harness.ts";

const CHUNK = 64 * 1024;
const SIZE = 16 * CHUNK + 1234;

let dir: string;
let source: string;
let destination: string;
let bytes: Uint8Array;

beforeEach(async () => {
  dir = await makeTempDir();
  source = join(dir, "source.bin");
  destination = join(dir, "copy.bin");
  bytes = patternBytes(SIZE);
  await writeFile(source, bytes);
});

afterEach(async () => {
  await removeTempDir(dir);
});

function expectedCrc(data: Uint8Array): string {
  return crc32(data).toString(16).padStart(8, "0");
}

function params() {
  return { source, destination, chunkBytes: CHUNK };
}

async function stoppedCopy(stopAtCheckpoint: number): Promise<ReadPosition[]> {
  const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { stopAtCheckpoint });
  expect(outcome.status).toBe("stopped");
  return runtime.states as ReadPosition[];
}

describe("copy-file", () => {
  test("copies the bytes and reports the CRC-32 of the whole file", async () => {
    const filesBefore = openFileCount();
    const { outcome, runtime } = await runTask(new CopyFileTask(), params());

    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(bytes) });
    expect(Value.Check(CopyFileTask.result, resultOf(outcome))).toBe(true);
    expect(await readBytes(destination)).toEqual(bytes);
    expect(await Bun.file(`${destination}.partial`).exists()).toBe(false);
    expect(runtime.states).toHaveLength(Math.ceil(SIZE / CHUNK));
    expect(runtime.progressReports.at(-1)).toEqual({ done: SIZE, total: SIZE, message: undefined });
    expect(openFileCount()).toBe(filesBefore);
  });

  test("replaces an existing destination", async () => {
    await writeFile(destination, "old contents");
    const { outcome } = await runTask(new CopyFileTask(), params());
    expect(resultOf(outcome).bytes).toBe(SIZE);
    expect(await readBytes(destination)).toEqual(bytes);
  });

  test("copies an empty file", async () => {
    await writeFile(source, "");
    const { outcome } = await runTask(new CopyFileTask(), params());
    expect(resultOf(outcome)).toEqual({ bytes: 0, crc32: "00000000" });
    expect((await stat(destination)).size).toBe(0);
  });

  test("a stopped copy keeps its partial file, closes its files and resumes without rereading", async () => {
    const filesBefore = openFileCount();
    const states = await stoppedCopy(5);
    expect(openFileCount()).toBe(filesBefore);
    const saved = states.at(-1) as ReadPosition;
    expect(saved.offset).toBe(5 * CHUNK);
    expect(await Bun.file(destination).exists()).toBe(false);
    expect((await stat(`${destination}.partial`)).size).toBe(saved.offset);

    const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { state: saved });
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(bytes) });
    expect(await readBytes(destination)).toEqual(bytes);
    expect(runtime.progressReports[0]?.done).toBe(saved.offset);
    expect(Math.min(...runtime.progressReports.map((report) => report.done))).toBe(saved.offset);
    expect(runtime.states).toHaveLength(Math.ceil((SIZE - saved.offset) / CHUNK));
    expect(runtime.logs.some((line) => line.message.includes(`resuming at byte ${saved.offset}`))).toBe(true);
  });

  test("resumes from a checkpoint older than the partial file, cutting the extra bytes", async () => {
    const states = await stoppedCopy(8);
    await appendFile(`${destination}.partial`, "bytes written after the saved checkpoint");
    const older = states[2] as ReadPosition;

    const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { state: older });
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(bytes) });
    expect(await readBytes(destination)).toEqual(bytes);
    expect(runtime.progressReports[0]?.done).toBe(older.offset);
  });

  test("starts over when the partial file is missing", async () => {
    const saved = (await stoppedCopy(4)).at(-1);
    await Bun.file(`${destination}.partial`).delete();

    const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { state: saved });
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(bytes) });
    expect(await readBytes(destination)).toEqual(bytes);
    expect(runtime.progressReports[0]?.done).toBe(0);
    expect(runtime.logs.some((line) => line.level === "warn")).toBe(true);
  });

  test("starts over when the partial file is shorter than the saved offset", async () => {
    const saved = (await stoppedCopy(4)).at(-1) as ReadPosition;
    await truncate(`${destination}.partial`, saved.offset - 10);

    const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { state: saved });
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(bytes) });
    expect(await readBytes(destination)).toEqual(bytes);
    expect(runtime.states).toHaveLength(Math.ceil(SIZE / CHUNK));
  });

  test("starts over when the source changed since the checkpoint", async () => {
    const saved = (await stoppedCopy(4)).at(-1);
    const changed = patternBytes(SIZE, 99);
    await writeFile(source, changed);
    const later = new Date(Date.now() + 60_000);
    await utimes(source, later, later);

    const { outcome, runtime } = await runTask(new CopyFileTask(), params(), { state: saved });
    expect(resultOf(outcome)).toEqual({ bytes: SIZE, crc32: expectedCrc(changed) });
    expect(await readBytes(destination)).toEqual(changed);
    expect(runtime.logs.some((line) => line.message.includes("the file changed"))).toBe(true);
  });

  test("a missing source fails unrecoverably and creates nothing", async () => {
    const filesBefore = openFileCount();
    const { outcome } = await runTask(new CopyFileTask(), { ...params(), source: join(dir, "nope.bin") });
    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(`source ${join(dir, "nope.bin")} does not exist`);
    expect(await Bun.file(`${destination}.partial`).exists()).toBe(false);
    expect(openFileCount()).toBe(filesBefore);
  });

  test("a directory as source fails unrecoverably", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder);
    const error = errorOf((await runTask(new CopyFileTask(), { ...params(), source: folder })).outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toContain("is a directory");
  });

  test("a destination in a missing folder or on a directory fails unrecoverably", async () => {
    const inMissing = join(dir, "missing", "copy.bin");
    const first = errorOf(
      (await runTask(new CopyFileTask(), { ...params(), destination: inMissing })).outcome,
    );
    expect(first).toBeInstanceOf(UnrecoverableError);
    expect(first.message).toContain("does not exist");

    const second = errorOf((await runTask(new CopyFileTask(), { ...params(), destination: dir })).outcome);
    expect(second).toBeInstanceOf(UnrecoverableError);
    expect(second.message).toContain("is a directory");
  });
});
