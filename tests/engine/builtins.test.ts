import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { silentLogger, TaskManager } from "../../src/index.ts";
import { tempDir, untilStatus } from "../helpers.ts";

const BUILT_IN = new URL("../../src/builtin-tasks/index.ts", import.meta.url);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A manager on `dbPath` whose file tasks may use the database's own folder (the database excepted). */
async function start(dbPath: string, maxParkedWorkers = 16) {
  const manager = new TaskManager({
    db: dbPath,
    concurrency: 2,
    logger: silentLogger,
    maxParkedWorkers,
    fileRoots: [dirname(dbPath)],
  });
  await manager.load(BUILT_IN);
  await manager.start();
  cleanups.push(() => manager.shutdown());
  return manager;
}

test("copy-file paused mid-way on a real worker, released, and resumed produces an identical copy", async () => {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const source = join(dir.path, "source.bin");
  const destination = join(dir.path, "copy.bin");
  const bytes = randomBytes(48 * 1024 * 1024);
  writeFileSync(source, bytes);
  // maxParkedWorkers 0: the paused task gives its worker back, so resume must start from the saved offset.
  const manager = await start(join(dir.path, "kiln.db"), 0);
  const { task } = await manager.create("copy-file", { source, destination, chunkBytes: 4096 });
  await manager.waitFor(task.id, (t) => (t.progress?.done ?? 0) > 0);
  await manager.pause(task.id);
  const paused = await untilStatus(manager, task.id, ["PAUSED"]);
  const offset = (paused.checkpoint as { offset: number }).offset;
  expect(offset).toBeGreaterThan(0);
  expect(offset).toBeLessThan(bytes.length);
  await manager.resume(task.id);
  const done = await untilStatus(manager, task.id, ["FINISHED"]);
  expect(readFileSync(destination).equals(bytes)).toBe(true);
  expect(done.result).toEqual({
    bytes: bytes.length,
    crc32: Bun.hash.crc32(bytes).toString(16).padStart(8, "0"),
  });
});

test("walk-directory and count run to completion through the engine", async () => {
  const dir = tempDir();
  cleanups.push(dir.remove);
  const tree = join(dir.path, "tree");
  await Bun.write(join(tree, "a.txt"), "hello");
  await Bun.write(join(tree, "sub", "b.txt"), "world!");
  const manager = await start(join(dir.path, "kiln.db"));
  const walk = (await manager.create("walk-directory", { path: tree })).task;
  const count = (await manager.create("count", { to: 3, delayMs: 1 })).task;
  const walked = await untilStatus(manager, walk.id, ["FINISHED"]);
  expect(walked.result).toMatchObject({ files: 2, bytes: 11 });
  expect((await untilStatus(manager, count.id, ["FINISHED"])).result).toEqual({ counted: 3 });
});
