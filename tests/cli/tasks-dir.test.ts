import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { kiln, lines } from "./run.ts";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

const task = (className: string, taskName: string | undefined) =>
  `import { BaseTask } from "kiln";\nexport class ${className} extends BaseTask {\n${
    taskName === undefined ? "" : `  static override taskName = ${JSON.stringify(taskName)};\n`
  }  override async run() {}\n}\n`;

/** Runs `kiln serve` on a tasks folder holding `files`; every case here must stop it at start-up. */
async function serveWith(files: Record<string, string>) {
  const dir = tempDir("kiln-tasks-dir-");
  dirs.push(dir);
  const tasks = join(dir.path, "tasks");
  mkdirSync(tasks);
  for (const [name, source] of Object.entries(files)) writeFileSync(join(tasks, name), source);
  const run = await kiln(["serve", "--port", "0", "--db", join(dir.path, "kiln.db"), "--tasks-dir", tasks]);
  return { ...run, tasks };
}

describe("kiln serve --tasks-dir refuses a bad task file with one line and exit code 2", () => {
  test("a syntax error names the file, the line and the column", async () => {
    const run = await serveWith({ "broken.ts": "export const ok = 1;\nexport const = ;\nlet x = ;\n" });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `kiln: task file ${join(run.tasks, "broken.ts")}: syntax error at line 2, column 14: Expected identifier but found "=" (and 2 more)`,
    ]);
  });

  test("a file that throws at import names the file and what it threw", async () => {
    const thrown = await serveWith({ "boom.ts": 'throw new Error("no config for boom");\n' });
    expect(thrown.code).toBe(2);
    expect(lines(thrown.stderr)).toEqual([
      `kiln: task file ${join(thrown.tasks, "boom.ts")}: no config for boom`,
    ]);
    // Not an Error: before, this crashed the CLI with a TypeError and a stack (exit 1).
    const rejected = await serveWith({ "null.ts": "await Promise.reject(null);\n" });
    expect(rejected.code).toBe(2);
    expect(lines(rejected.stderr)).toEqual([
      `kiln: task file ${join(rejected.tasks, "null.ts")}: importing it threw null`,
    ]);
    const text = await serveWith({ "text.ts": 'throw "missing secret";\n' });
    expect(lines(text.stderr)).toEqual([
      `kiln: task file ${join(text.tasks, "text.ts")}: importing it threw "missing secret"`,
    ]);
  });

  test("two files declaring the same task name name both files", async () => {
    const run = await serveWith({ "a.ts": task("First", "report"), "b.ts": task("Second", "report") });
    expect(run.code).toBe(2);
    const a = `file://${join(run.tasks, "a.ts")}`;
    const b = `file://${join(run.tasks, "b.ts")}`;
    expect(lines(run.stderr)).toEqual([
      `kiln: task file ${join(run.tasks, "b.ts")}: two task classes are named "report" (first in ${a}, then in ${b})`,
    ]);
  });

  test("a task name that a built-in task already has", async () => {
    const run = await serveWith({ "copy.ts": task("MyCopy", "copy-file") });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `kiln: task file ${join(run.tasks, "copy.ts")}: two task classes are named "copy-file" (first built in, then in file://${join(run.tasks, "copy.ts")})`,
    ]);
  });

  test("a task class without a taskName, or a file without a task class", async () => {
    for (const source of [task("Nameless", undefined), "export const answer = 42;\n"]) {
      const run = await serveWith({ "nameless.ts": source });
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([
        `kiln: task file ${join(run.tasks, "nameless.ts")}: it exports no BaseTask subclass with a static taskName`,
      ]);
    }
  });

  test("an invalid task name", async () => {
    const run = await serveWith({ "bad.ts": task("Bad", "bad name!") });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(`bad.ts: task name "bad name!" must be 1-128 letters`);
  });
});
