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
  test("a syntax error is given as file:line:column and the message, whatever kind it is", async () => {
    const cases: Array<{ file: string; source: string; line: string }> = [
      {
        file: "several.ts",
        source: "export const ok = 1;\nexport const = ;\nlet x = ;\n",
        line: 'several.ts:2:14: syntax error: Expected identifier but found "=" (and 2 more)',
      },
      // One error alone is thrown differently by Bun (a BuildMessage, not an AggregateError).
      {
        file: "string.ts",
        source: 'import { BaseTask } from "kiln";\nexport const s = "abc\n',
        line: "string.ts:2:18: syntax error: Unterminated string literal",
      },
      {
        file: "brace.ts",
        source:
          'import { BaseTask } from "kiln";\nexport class Open extends BaseTask {\n  static override taskName = "open";\n',
        line: 'brace.ts:3:37: syntax error: Expected "}" but found end of file',
      },
      {
        file: "operator.js",
        source:
          'import { BaseTask } from "kiln";\nexport class Sum extends BaseTask {\n  static taskName = "sum";\n  async run() { return 1 +; }\n}\n',
        line: "operator.js:4:27: syntax error: Unexpected ;",
      },
    ];
    for (const { file, source, line } of cases) {
      const run = await serveWith({ [file]: source });
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([`kiln: task file ${join(run.tasks, line)}`]);
    }
  });

  test("a syntax error in a module the task file imports names that module and its position", async () => {
    const dir = tempDir("kiln-tasks-dir-");
    dirs.push(dir);
    const tasks = join(dir.path, "tasks");
    const lib = join(dir.path, "lib");
    mkdirSync(tasks);
    mkdirSync(lib);
    writeFileSync(join(lib, "helper.ts"), "export const answer = 42;\nexport const broken = (;\n");
    writeFileSync(join(tasks, "uses.ts"), 'export { answer } from "../lib/helper.ts";\n');
    const run = await kiln(["serve", "--port", "0", "--db", join(dir.path, "kiln.db"), "--tasks-dir", tasks]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `kiln: task file ${join(tasks, "uses.ts")}: syntax error in ${join(lib, "helper.ts")}:2:24: Unexpected ;`,
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
