// `kiln serve --durability full` opens its database with an fsync at each commit, and says so
// in its start-up line as the database connection reports it; on PostgreSQL the line gives the
// server's synchronous_commit and fsync, as it runs kiln's sessions.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";
import { start } from "./run.ts";

async function servingLine(
  args: string[],
  env: Record<string, string> = {},
  db?: string,
): Promise<Record<string, unknown>> {
  const dir = tempDir("kiln-serve-durability-");
  const run = start(
    ["serve", "--port", "0", "--log-format", "json", "--db", db ?? join(dir.path, "kiln.db"), ...args],
    env,
  );
  try {
    await run.waitForOutput(/"msg":"kiln serving"/);
    const line = run
      .stdout()
      .split("\n")
      .find((l) => l.includes('"msg":"kiln serving"'));
    return JSON.parse(line ?? "{}") as Record<string, unknown>;
  } finally {
    run.kill();
    await run.done;
    dir.remove();
  }
}

test("--durability full and KILN_DURABILITY=full run on synchronous=FULL; the default on NORMAL", async () => {
  expect((await servingLine(["--durability", "full"])).durability).toBe("full (synchronous=FULL)");
  expect((await servingLine([], { KILN_DURABILITY: "full" })).durability).toBe("full (synchronous=FULL)");
  expect((await servingLine([])).durability).toBe("normal (synchronous=NORMAL)");
}, 60_000);

test("on PostgreSQL the line gives synchronous_commit and fsync as the server runs kiln's sessions", async () => {
  const database = await testDatabase();
  const sql = rawClient(database.url);
  try {
    const [server] = await sql<{ fsync: string }[]>`SELECT current_setting('fsync') AS fsync`;
    const name = new URL(database.url).pathname.slice(1);
    await sql.unsafe(`ALTER DATABASE "${name}" RESET synchronous_commit`);
    const [own] = await sql<{ value: string }[]>`SELECT current_setting('synchronous_commit') AS value`;
    expect((await servingLine([], {}, database.url)).durability).toBe(
      `synchronous_commit=${own?.value}, fsync=${server?.fsync}`,
    );
    // A database's own setting is what kiln's commits run with, and what the line says.
    await sql.unsafe(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
    expect((await servingLine([], {}, database.url)).durability).toBe(
      `synchronous_commit=off, fsync=${server?.fsync}`,
    );
  } finally {
    await sql.end();
    await database.drop();
  }
}, 60_000);
