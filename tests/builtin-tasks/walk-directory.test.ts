import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { WalkDirectoryTask } from "../../src/builtin-tasks/index.ts";
import type { WalkState } from "../../src/builtin-tasks/walk-state.ts";
import { UnrecoverableError } from "../../src/task/index.ts";
import {
  errorOf,
  makeTempDir,
  openFileCount,
  removeTempDir,
  resultOf,
  runTask,
  startTask,
} from "./harness.ts";

let root: string;

async function file(relative: string, size: number): Promise<void> {
  await writeFile(join(root, relative), new Uint8Array(size));
}

/**
 * root/ a.txt b.TXT readme weird.2024-06-01T10:00
 *   sub1/ c.js  deep/ d.js e.tar.gz
 *   sub2/ f.txt  to-root -> ..  to-a -> ../a.txt
 *   empty/
 */
beforeEach(async () => {
  root = await makeTempDir();
  await mkdir(join(root, "sub1", "deep"), { recursive: true });
  await mkdir(join(root, "sub2"));
  await mkdir(join(root, "empty"));
  await file("a.txt", 100);
  await file("b.TXT", 50);
  await file("readme", 10);
  await file("weird.2024-06-01T10:00", 7);
  await file("sub1/c.js", 200);
  await file("sub1/deep/d.js", 300);
  await file("sub1/deep/e.tar.gz", 400);
  await file("sub2/f.txt", 5);
  await symlink("..", join(root, "sub2", "to-root"));
  await symlink("../a.txt", join(root, "sub2", "to-a"));
});

afterEach(async () => {
  await chmod(join(root, "sub1"), 0o755).catch(() => undefined);
  await removeTempDir(root);
});

const FULL_SUMMARY = {
  files: 8,
  directories: 5,
  symlinks: 2,
  others: 0,
  bytes: 1072,
  unreadable: 0,
  truncated: false,
  extensions: [
    { extension: ".js", files: 2, bytes: 500 },
    { extension: ".gz", files: 1, bytes: 400 },
    { extension: ".txt", files: 3, bytes: 155 },
    { extension: "(none)", files: 1, bytes: 10 },
    { extension: "(other)", files: 1, bytes: 7 },
  ],
};

describe("walk-directory", () => {
  test("summarises the tree without following symbolic links, one checkpoint per directory", async () => {
    const { outcome, runtime } = await runTask(new WalkDirectoryTask(), { path: root });

    expect(resultOf(outcome)).toEqual({ path: root, ...FULL_SUMMARY });
    expect(Value.Check(WalkDirectoryTask.result, resultOf(outcome))).toBe(true);
    expect(runtime.states).toHaveLength(5);
    const last = runtime.lastState as WalkState;
    expect(last.pending).toEqual([]);
    expect(JSON.parse(JSON.stringify(last))).toEqual(last);
  });

  test("a stopped walk resumes from its checkpoint without reading finished directories again", async () => {
    const first = await runTask(new WalkDirectoryTask(), { path: root }, { stopAtCheckpoint: 2 });
    expect(first.outcome.status).toBe("stopped");
    const saved = first.runtime.lastState as WalkState;
    expect(saved.pending.length).toBeGreaterThan(0);

    const second = await runTask(new WalkDirectoryTask(), { path: root }, { state: saved });
    expect(resultOf(second.outcome)).toEqual({ path: root, ...FULL_SUMMARY });
    expect(second.runtime.states).toHaveLength(5 - 2);
    expect(second.runtime.progressReports[0]?.done).toBeGreaterThan(
      saved.files + saved.directories - 1 + saved.symlinks,
    );
  });

  test("a directory that vanished before it was read is skipped with a warning", async () => {
    const first = await runTask(new WalkDirectoryTask(), { path: root }, { stopAtCheckpoint: 1 });
    const saved = first.runtime.lastState as WalkState;
    expect(saved.pending).toContain(join(root, "sub1"));
    await rm(join(root, "sub1"), { recursive: true });

    const { outcome, runtime } = await runTask(new WalkDirectoryTask(), { path: root }, { state: saved });
    const summary = resultOf(outcome);
    expect(summary.unreadable).toBe(1);
    expect(summary.files).toBe(5);
    expect(summary.directories).toBe(4);
    const warnings = runtime.logs.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain(join(root, "sub1"));
  });

  test.skipIf(process.getuid?.() === 0)("an unreadable directory is skipped with a warning", async () => {
    await chmod(join(root, "sub1"), 0o000);
    const { outcome, runtime } = await runTask(new WalkDirectoryTask(), { path: root });
    const summary = resultOf(outcome);
    expect(summary.unreadable).toBe(1);
    expect(summary.files).toBe(5);
    expect(runtime.logs.some((line) => line.level === "warn" && line.message.includes("sub1"))).toBe(true);
  });

  test("maxEntries ends the walk early and marks the result truncated", async () => {
    const { outcome } = await runTask(new WalkDirectoryTask(), { path: root, maxEntries: 3 });
    const summary = resultOf(outcome);
    expect(summary.truncated).toBe(true);
    expect(summary.files + summary.directories - 1 + summary.symlinks + summary.others).toBe(3);
  });

  test("a maxEntries that the tree exactly fills does not mark the result truncated", async () => {
    const { outcome } = await runTask(new WalkDirectoryTask(), { path: root, maxEntries: 14 });
    expect(resultOf(outcome)).toEqual({ path: root, ...FULL_SUMMARY });
  });

  test("keeps the 20 extensions that take the most bytes", async () => {
    await mkdir(join(root, "many"));
    await Promise.all(Array.from({ length: 25 }, (_, i) => file(`many/x${i}.e${i}`, 1000 + i)));

    const summary = resultOf((await runTask(new WalkDirectoryTask(), { path: root })).outcome);
    expect(summary.extensions).toHaveLength(20);
    expect(summary.extensions[0]).toEqual({ extension: ".e24", files: 1, bytes: 1024 });
    expect(summary.extensions.at(-1)).toEqual({ extension: ".e5", files: 1, bytes: 1005 });
  });

  test("a stop inside a large directory takes effect before the directory is done", async () => {
    await mkdir(join(root, "large"));
    await Promise.all(Array.from({ length: 1_500 }, (_, i) => file(`large/${i}.dat`, 0)));
    const filesBefore = openFileCount();

    const { runtime, outcome } = startTask(new WalkDirectoryTask(), { path: join(root, "large") });
    runtime.requestStop();
    expect((await outcome).status).toBe("stopped");
    expect(runtime.states).toEqual([]);
    expect(openFileCount()).toBe(filesBefore);
  });

  test("a missing directory fails unrecoverably", async () => {
    const missing = join(root, "missing");
    const error = errorOf((await runTask(new WalkDirectoryTask(), { path: missing })).outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe(`directory ${missing} does not exist`);
  });

  test("a file given as the directory fails unrecoverably", async () => {
    const error = errorOf((await runTask(new WalkDirectoryTask(), { path: join(root, "a.txt") })).outcome);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toContain("is not a directory");
  });
});
