import { afterEach, expect, test } from "bun:test";
import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { FileAccess } from "../../src/index.ts";
import { startManager, type TestManager, tempDir, untilStatus } from "../helpers.ts";

const FILE_ACCESS_TASKS = new URL("../fixtures/file-access-tasks.ts", import.meta.url);

let env: TestManager | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

test("the file roots and protected paths reach tasks on worker threads and in task processes", async () => {
  const dir = tempDir();
  const data = join(dir.path, "data");
  mkdirSync(data);
  // A root given through a symlink arrives as its real path, which is what tasks compare.
  symlinkSync(data, join(dir.path, "data-link"));
  env = await startManager(
    { fileRoots: [join(dir.path, "data-link")], protectedFiles: ["/run/kiln/token"] },
    dir,
  );
  await env.manager.load(FILE_ACCESS_TASKS);
  const realDb = join(realpathSync(dir.path), "kiln.db");
  for (const name of ["file-access-thread", "file-access-process"]) {
    const { task } = await env.manager.create(name, {});
    const done = await untilStatus(env.manager, task.id, ["FINISHED", "FAILED"]);
    expect({ name, status: done.status }).toEqual({ name, status: "FINISHED" });
    const access = done.result as FileAccess;
    expect(access.roots).toEqual([realpathSync(data)]);
    expect(access.protectedPaths).toContain(realDb);
    expect(access.protectedPaths).toContain("/run/kiln/token");
    expect(access.protectedPaths).toContain("/proc");
  }
});

test("without fileRoots, tasks see no roots; a root that does not exist is refused at construction", async () => {
  env = await startManager();
  await env.manager.load(FILE_ACCESS_TASKS);
  const { task } = await env.manager.create("file-access-thread", {});
  const done = await untilStatus(env.manager, task.id, ["FINISHED"]);
  expect((done.result as FileAccess).roots).toEqual([]);
  const other = tempDir();
  try {
    await expect(startManager({ fileRoots: ["/no/such/root"] }, other)).rejects.toThrow(
      "file root /no/such/root does not exist",
    );
  } finally {
    other.remove();
  }
});
