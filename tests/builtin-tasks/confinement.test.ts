// The built-in file tasks under an operator's file roots: real files, real symlinks and hard
// links, the tasks run through the same lifecycle a worker runs.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { link, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ChecksumFileTask, CopyFileTask, WalkDirectoryTask } from "../../src/builtin-tasks/index.ts";
import { resolveFileAccess } from "../../src/engine/runs/file-access.ts";
import { type FileAccess, NO_FILE_ACCESS, UnrecoverableError } from "../../src/task/index.ts";
import { errorOf, makeTempDir, removeTempDir, resultOf, runTask } from "./harness.ts";

let base: string;
let root: string;
let outside: string;
let db: string;
let tokenFile: string;
let access: FileAccess;

/**
 * base/ root/ (the files root: data.txt, kiln.db, kiln.db-wal, sub/)
 *       outside/ secret.txt
 *       token (a token file, protected though outside the root)
 */
beforeEach(async () => {
  base = await makeTempDir();
  root = join(base, "root");
  outside = join(base, "outside");
  await mkdir(join(root, "sub"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, "data.txt"), "plain data");
  db = join(root, "kiln.db");
  await writeFile(db, "SQLite format 3\0 the live database");
  await writeFile(`${db}-wal`, "the WAL");
  await writeFile(join(outside, "secret.txt"), "not for tasks");
  tokenFile = join(base, "token");
  await writeFile(tokenFile, "s3cret-token\n");
  access = resolveFileAccess([root], [tokenFile], db);
});

afterEach(async () => {
  await removeTempDir(base);
});

async function refusal(run: Promise<{ outcome: Parameters<typeof errorOf>[0] }>): Promise<string> {
  const error = errorOf((await run).outcome);
  expect(error).toBeInstanceOf(UnrecoverableError);
  return error.message;
}

const copy = (source: string, destination: string, fileAccess = access) =>
  runTask(new CopyFileTask(), { source, destination }, { fileAccess });
const checksum = (path: string, fileAccess = access) =>
  runTask(new ChecksumFileTask(), { path }, { fileAccess });
const walk = (path: string, fileAccess = access, state?: unknown) =>
  runTask(new WalkDirectoryTask(), { path }, { fileAccess, state });

describe("without a files root", () => {
  test("every built-in file task refuses, saying how to enable them", async () => {
    const messages = [
      await refusal(copy(join(root, "data.txt"), join(root, "copy.txt"), NO_FILE_ACCESS)),
      await refusal(checksum(join(root, "data.txt"), NO_FILE_ACCESS)),
      await refusal(walk(root, NO_FILE_ACCESS)),
      await refusal(copy("/etc/passwd", join(root, "passwd"), NO_FILE_ACCESS)),
    ];
    for (const message of messages) {
      expect(message).toStartWith("file tasks are disabled: kiln was started without a files root");
      expect(message).toContain("--files-root <dir>");
    }
    expect(await Bun.file(join(root, "copy.txt")).exists()).toBe(false);
    expect(await Bun.file(join(root, "passwd")).exists()).toBe(false);
  });
});

describe("with a files root", () => {
  test("copy, checksum and walk inside it work; the copy is readable by its owner only", async () => {
    const previous = process.umask(0);
    try {
      const { outcome } = await copy(join(root, "data.txt"), join(root, "sub", "copy.txt"));
      expect(resultOf(outcome).bytes).toBe(10);
    } finally {
      process.umask(previous);
    }
    expect(await readFile(join(root, "sub", "copy.txt"), "utf8")).toBe("plain data");
    expect((await stat(join(root, "sub", "copy.txt"))).mode & 0o777).toBe(0o600);
    expect(resultOf((await checksum(join(root, "data.txt"))).outcome).bytes).toBe(10);
    expect(resultOf((await walk(join(root, "sub"))).outcome).files).toBe(1);
  });

  test("paths outside it are refused: absolute, with .., and through symlinks", async () => {
    await symlink(join(outside, "secret.txt"), join(root, "link-to-secret"));
    await symlink(outside, join(root, "link-to-outside"));
    const cases = [
      copy("/etc/passwd", join(root, "passwd")),
      copy(join(root, "..", "outside", "secret.txt"), join(root, "stolen.txt")),
      copy(join(root, "link-to-secret"), join(root, "stolen.txt")),
      copy(join(root, "link-to-outside", "secret.txt"), join(root, "stolen.txt")),
      copy(join(root, "data.txt"), join(outside, "planted.txt")),
      copy(join(root, "data.txt"), join(root, "link-to-outside", "planted.txt")),
      checksum(join(root, "link-to-secret")),
      walk(outside),
      walk(join(root, "link-to-outside")),
    ];
    for (const run of cases) expect(await refusal(run)).toContain("is outside the files roots");
    expect(await Bun.file(join(root, "stolen.txt")).exists()).toBe(false);
    expect(await Bun.file(join(outside, "planted.txt")).exists()).toBe(false);
  });

  test("a destination that is a symlink to a file outside is refused, and that file is untouched", async () => {
    await symlink(join(outside, "secret.txt"), join(root, "innocent.txt"));
    expect(await refusal(copy(join(root, "data.txt"), join(root, "innocent.txt")))).toContain(
      "is outside the files roots",
    );
    await symlink(join(outside, "secret.txt"), join(root, "copy.txt.partial"));
    expect(await refusal(copy(join(root, "data.txt"), join(root, "copy.txt")))).toContain(
      "is outside the files roots",
    );
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("not for tasks");
  });

  test("kiln's database, its WAL and its token file are never read or written, even inside the root", async () => {
    await link(db, join(root, "hard-link-to-db"));
    await symlink(db, join(root, "link-to-db"));
    const wide = resolveFileAccess([base], [tokenFile], db);
    const cases = [
      copy(db, join(root, "db-copy")),
      copy(`${db}-wal`, join(root, "wal-copy")),
      copy(join(root, "link-to-db"), join(root, "db-copy")),
      copy(join(root, "data.txt"), db),
      copy(join(root, "data.txt"), `${db}-shm`),
      copy(join(root, "data.txt"), join(root, "link-to-db")),
      checksum(db),
      copy(tokenFile, join(base, "token-copy"), wide),
      copy(join(root, "data.txt"), tokenFile, wide),
    ];
    for (const run of cases) expect(await refusal(run)).toContain("is one of kiln's own files");
    expect(await refusal(copy(join(root, "hard-link-to-db"), join(root, "db-copy")))).toContain(
      "is another name for one of kiln's own files",
    );
    expect(await readFile(db, "utf8")).toBe("SQLite format 3\0 the live database");
    expect(await readFile(tokenFile, "utf8")).toBe("s3cret-token\n");
    expect(await Bun.file(join(root, "db-copy")).exists()).toBe(false);
  });

  test("a walk of a root leaves kiln's own files out", async () => {
    const tasksDir = join(root, "tasks");
    await mkdir(tasksDir);
    await writeFile(join(tasksDir, "job.ts"), "export {};");
    const withTasks = resolveFileAccess([root], [tokenFile, tasksDir], db);
    const { outcome } = await walk(root, withTasks);
    // data.txt and sub/ only: kiln.db, kiln.db-wal and the tasks folder are not listed.
    expect(resultOf(outcome)).toMatchObject({ files: 1, directories: 2, bytes: 10 });
  });

  test("/proc is never read, even with / as the root", async () => {
    const everything = resolveFileAccess(["/"], [], db);
    expect(await refusal(copy("/proc/self/environ", join(root, "environ"), everything))).toContain(
      "is one of kiln's own files (its database, a key, token or task file) or a system path",
    );
    expect(await refusal(checksum("/proc/self/environ", everything))).toContain("or a system path");
    expect(await Bun.file(join(root, "environ")).exists()).toBe(false);
  });

  test("a partial copy left as a hard link to another file starts over instead of writing into it", async () => {
    const victim = join(root, "victim.txt");
    await writeFile(victim, "keep me");
    await link(victim, join(root, "copy.txt.partial"));
    const source = join(root, "data.txt");
    const stats = await stat(source);
    const state = { offset: 4, crc32: 0, size: stats.size, mtimeMs: stats.mtimeMs };
    const { outcome } = await runTask(
      new CopyFileTask(),
      { source, destination: join(root, "copy.txt") },
      { fileAccess: access, state },
    );
    expect(resultOf(outcome).bytes).toBe(10);
    expect(await readFile(victim, "utf8")).toBe("keep me");
    expect(await readFile(join(root, "copy.txt"), "utf8")).toBe("plain data");
  });

  test("a walk checkpoint naming directories outside the root is not resumed", async () => {
    const saved = {
      pending: [outside],
      files: 0,
      directories: 1,
      symlinks: 0,
      others: 0,
      bytes: 0,
      unreadable: 0,
      byExtension: {},
    };
    const { outcome, runtime } = await walk(join(root, "sub"), access, saved);
    expect(resultOf(outcome)).toMatchObject({ files: 0, directories: 1 });
    expect(runtime.logs.map((line) => line.message)).toContain(
      "ignoring a malformed checkpoint or one from another root; walking from the root",
    );
  });
});
