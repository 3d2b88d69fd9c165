import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LogFileConfig } from "../../src/cli/config.ts";
import { LogFile } from "../../src/cli/log-file.ts";
import { tempDir } from "../helpers.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function setup(config: Partial<LogFileConfig> = {}) {
  const dir = tempDir("kiln-logfile-");
  cleanups.push(dir.remove);
  const path = join(dir.path, "kiln.log");
  const full: LogFileConfig = { path, mode: "rotate", maxBytes: 1_000, backups: 3, ...config };
  return { path, config: full, open: () => new LogFile(full) };
}

/** A JSON line of exactly `bytes` bytes with its newline. */
function line(n: number, bytes = 100): string {
  const head = `{"n":${n},"pad":"`;
  return `${head}${"x".repeat(bytes - head.length - 3)}"}`;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

describe("log file rotation", () => {
  test("a line that would cross the size starts a new file; path.1 … path.N kept, oldest gone", () => {
    const { path, open } = setup({ maxBytes: 1_000, backups: 3 });
    const file = open();
    // 10 lines of 100 bytes fill a file exactly; 45 lines make 5 files' worth.
    for (let i = 0; i < 45; i++) file.write(line(i));
    file.close();
    expect([path, `${path}.1`, `${path}.2`, `${path}.3`].map((p) => statSync(p).size)).toEqual([
      500, 1_000, 1_000, 1_000,
    ]);
    expect(existsSync(`${path}.4`)).toBe(false);
    // Oldest first, every line whole: the 10 oldest went with the file rotated out.
    const kept = [`${path}.3`, `${path}.2`, `${path}.1`, path].map((p) => read(p)).join("");
    expect(kept).toBe(Array.from({ length: 35 }, (_, i) => `${line(i + 10)}\n`).join(""));
  });

  test("lines queued within one turn go out in one write, at the next turn or on flush", async () => {
    const { path, open } = setup({ maxBytes: 1 << 20 });
    const file = open();
    file.write(line(1));
    file.write(line(2));
    expect(read(path)).toBe("");
    await new Promise((resolve) => setImmediate(resolve));
    expect(read(path)).toBe(`${line(1)}\n${line(2)}\n`);
    file.write(line(3));
    file.flush();
    expect(read(path)?.split("\n").length).toBe(4);
    file.close();
  });

  test("the size of a file that exists is counted; 0 backups starts the same file again", () => {
    const { path, open } = setup({ maxBytes: 1_000, backups: 0 });
    writeFileSync(path, `${line(0, 950)}\n`.slice(0, 950));
    const file = open();
    file.write(line(1));
    file.write(line(2));
    file.close();
    expect(read(path)).toBe(`${line(1)}\n${line(2)}\n`);
    expect(existsSync(`${path}.1`)).toBe(false);
  });

  test("a line longer than the limit still gets written, alone in its file", () => {
    const { path, open } = setup({ maxBytes: 1_000, backups: 2 });
    const file = open();
    file.write(line(1));
    file.write(line(2, 2_500));
    file.write(line(3));
    file.close();
    expect(read(`${path}.2`)).toBe(`${line(1)}\n`);
    expect(read(`${path}.1`)).toBe(`${line(2, 2_500)}\n`);
    expect(read(path)).toBe(`${line(3)}\n`);
  });
});

describe("watched log file", () => {
  test("never rotates by itself; reopen() after a move writes to a new file at the path", () => {
    const { path, open } = setup({ mode: "watched", maxBytes: 1_000 });
    const file = open();
    for (let i = 0; i < 30; i++) file.write(line(i));
    file.flush();
    expect(statSync(path).size).toBe(3_000);
    expect(existsSync(`${path}.1`)).toBe(false);
    // What logrotate does: move the file away, then send SIGHUP.
    renameSync(path, `${path}.old`);
    file.write(line(30));
    file.reopen();
    file.write(line(31));
    file.close();
    expect(read(`${path}.old`)?.endsWith(`${line(30)}\n`)).toBe(true);
    expect(read(path)).toBe(`${line(31)}\n`);
  });
});
