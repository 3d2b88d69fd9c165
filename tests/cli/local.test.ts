import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import pkg from "../../package.json" with { type: "json" };
import { tempDir } from "../helpers.ts";
import { kiln } from "./run.ts";

describe("help and usage errors", () => {
  test("help lists every command", async () => {
    const run = await kiln(["help"]);
    expect(run.code).toBe(0);
    for (const command of [
      "serve",
      "migrate",
      "types",
      "submit",
      "ls",
      "show",
      "pause",
      "resume",
      "stop",
      "restart",
      "delete",
      "bulk",
      "logs",
      "watch",
      "health",
      "version",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
    }
    expect((await kiln(["--help"])).stdout).toBe(run.stdout);
    expect((await kiln([])).stdout).toBe(run.stdout);
  });

  test("a command's --help shows its usage and flags and exits 0", async () => {
    const run = await kiln(["submit", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toStartWith("usage: kiln submit <name>");
    expect(run.stdout).toContain("--params JSON");
    expect(run.stdout).toContain("KILN_URL");
    expect((await kiln(["help", "submit"])).stdout).toBe(run.stdout);
  });

  test("an unknown command is exit 2 with a pointer to help", async () => {
    const run = await kiln(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('kiln: unknown command "frobnicate"\nrun `kiln help` for the list of commands\n');
  });

  test("an unknown flag, a missing value and a missing id are exit 2 with the command's usage", async () => {
    const unknown = await kiln(["ls", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "kiln: unknown flag --bogus\nusage: kiln ls [--status S] [--name N] [--tag T] [--param PATH=VALUE ...] [--created-after T] [--created-before T] [--ended-after T] [--ended-before T] [--limit N] [--cursor C] [--json]\n",
    );
    const missingValue = await kiln(["ls", "--limit"]);
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toStartWith("kiln: --limit needs a value\nusage: kiln ls");
    const missingId = await kiln(["show"]);
    expect(missingId.code).toBe(2);
    expect(missingId.stderr).toBe("kiln: missing the task id\nusage: kiln show <id> [--json]\n");
    const extra = await kiln(["show", "a", "b"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toStartWith('kiln: unexpected argument "b"');
  });

  test("a bad --url is a usage error, not a connection failure", async () => {
    const run = await kiln(["types", "--url", "ftp://example.org"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toStartWith('kiln: --url must be an http(s) URL, got "ftp://example.org"');
  });

  test("serve keeps its configuration errors at exit 2", async () => {
    const run = await kiln(["serve", "--port", "70000"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('kiln: --port must be an integer from 0 to 65535, got "70000"\n');
  });

  test("a --task-memory-limit below 16 MB is a configuration error", async () => {
    const run = await kiln(["serve", "--task-memory-limit", "8"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('kiln: --task-memory-limit must be an integer from 16 to 1048576, got "8"\n');
  });

  test("the hidden task-process subcommand refuses to run without kiln on the other end", async () => {
    const run = await kiln(["__task-process"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("kiln: a task process must be started by kiln over IPC\n");
  });
});

describe("version", () => {
  test("prints kiln's version from package.json and Bun's", async () => {
    const run = await kiln(["version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`kiln ${pkg.version} (bun ${Bun.version})\n`);
    expect((await kiln(["--version"])).stdout).toBe(run.stdout);
  });
});

describe("migrate", () => {
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir.remove());

  function tables(path: string): string[] {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((row) => row.name);
    } finally {
      db.close();
    }
  }

  // The schema number is the count of migrations applied: every one drizzle/ holds.
  const latest = journal.entries.length;
  const migrations = latest === 1 ? "1 migration" : `${latest} migrations`;

  test("creates a fresh database with kiln's tables, then finds it up to date", async () => {
    dir = tempDir();
    const path = join(dir.path, "fresh.db");
    const first = await kiln(["migrate", "--db", path]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`kiln: database ${path} is at schema ${latest} (applied ${migrations} now)\n`);
    expect(existsSync(path)).toBe(true);
    expect(tables(path)).toEqual(expect.arrayContaining(["tasks", "task_events", "task_logs"]));

    const again = await kiln(["migrate", "--db", path]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`kiln: database ${path} is at schema ${latest} (already up to date)\n`);
  });

  test("takes the path from KILN_DB; --db wins over it", async () => {
    dir = tempDir();
    const fromEnv = join(dir.path, "env.db");
    const fromFlag = join(dir.path, "flag.db");
    expect((await kiln(["migrate"], { KILN_DB: fromEnv })).code).toBe(0);
    expect(tables(fromEnv)).toContain("tasks");
    expect((await kiln(["migrate", "--db", fromFlag], { KILN_DB: join(dir.path, "unused.db") })).code).toBe(
      0,
    );
    expect(tables(fromFlag)).toContain("tasks");
    expect(existsSync(join(dir.path, "unused.db"))).toBe(false);
  });

  test("a path it cannot open, or a file that is not SQLite, is exit 1 with the reason", async () => {
    dir = tempDir();
    const missingDir = await kiln(["migrate", "--db", join(dir.path, "no", "such", "dir.db")]);
    expect(missingDir.code).toBe(1);
    expect(missingDir.stderr).toStartWith(`kiln: cannot migrate the database ${join(dir.path, "no")}`);
    const text = join(dir.path, "text.db");
    writeFileSync(text, "this is not a database, just some text that is long enough to have a header");
    const notSqlite = await kiln(["migrate", "--db", text]);
    expect(notSqlite.code).toBe(1);
    expect(notSqlite.stderr).toContain("not a database");
  });
});
