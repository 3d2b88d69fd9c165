// `kiln serve --db postgres://…` and the local commands on a PostgreSQL database: one owner per
// database, one-line refusals, the URL's password never shown, migrate and rekey on the server.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { api, KILN_FROM_SOURCE, type ServingKiln, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { rawClient, testDatabase } from "../store/postgres/database.ts";
import { kiln, lines, start } from "./run.ts";

const PASSWORD = "s3cret-never-shown";
let database: Awaited<ReturnType<typeof testDatabase>>;
/** The database's URL with a password in it (the test server trusts local users and ignores it). */
let url: string;
let shown: string;
beforeAll(async () => {
  database = await testDatabase();
  const withPassword = new URL(database.url);
  if (!withPassword.password) withPassword.password = PASSWORD;
  url = withPassword.toString();
  const without = new URL(url);
  without.password = "";
  shown = without.toString();
});
afterAll(async () => {
  await database.drop();
});
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveOn(db: string, extra: string[] = []): Promise<ServingKiln> {
  const dir = tempDir("kiln-pg-serve-");
  cleanups.push(dir.remove);
  const server = await serveKiln(KILN_FROM_SOURCE, ["--db", db, ...extra], dir.path);
  cleanups.push(() => server.stop("SIGKILL"));
  return server;
}

/** `kiln serve` that must not get as far as serving: its exit code and stderr. */
async function refusedServe(args: string[]) {
  const run = start(["serve", "--port", "0", ...args]);
  cleanups.push(() => run.kill());
  const outcome = await Promise.race([
    run.done.then(() => "exited" as const),
    run.waitForOutput(/"msg":"kiln serving"/, 30_000).then(
      () => "serving" as const,
      () => "exited" as const,
    ),
  ]);
  if (outcome === "serving") run.kill();
  return { outcome, ...(await run.done) };
}

describe("kiln serve on PostgreSQL", () => {
  test("serves tasks; a second kiln on the database joins it as another node; the password is never shown", async () => {
    const first = await serveOn(url);
    const serving = first.lines.find((line) => line.includes('"kiln serving"')) ?? "";
    expect(JSON.parse(serving).db).toBe(shown);
    const created = await api<{ id: string }>(`${first.url}/tasks`, {
      json: { name: "count", params: { to: 3, delayMs: 10 } },
    });
    expect(created.status).toBe(201);
    const health = await fetch(`${first.url}/health`).then((r) => r.text());
    expect(health).not.toContain(PASSWORD);

    // A second kiln on the database, by KILN_DB, joins it as another node: both list both.
    const secondDir = tempDir("kiln-pg-serve-");
    cleanups.push(secondDir.remove);
    const second = await serveKiln(KILN_FROM_SOURCE, [], secondDir.path, { KILN_DB: url });
    cleanups.push(() => second.stop("SIGKILL"));
    for (const node of [first, second]) {
      const listed = await api<{ items: Array<{ id: string }> }>(`${node.url}/nodes`);
      expect(listed.body.items).toHaveLength(2);
    }
    expect(await second.stop()).toBe(0);
    await untilFinished(first.url, created.body.id);
    expect(await first.stop()).toBe(0);
    expect(first.lines.join("\n")).not.toContain(PASSWORD);
    expect(second.lines.join("\n")).not.toContain(PASSWORD);
  }, 60_000);

  test("a server that cannot be reached at start-up is one line naming the URL without its password, exit 1", async () => {
    const down = new URL(url);
    down.port = "1"; // nothing listens on port 1
    const run = await refusedServe(["--db", down.toString()]);
    expect(run.code).toBe(1);
    const [line, ...rest] = lines(run.stderr);
    expect(rest).toEqual([]);
    down.password = "";
    expect(line).toStartWith(
      `kiln: cannot use the database ${down.toString()}: the database server cannot be reached`,
    );
    expect(line).toContain("ECONNREFUSED");
    expect(run.stderr).not.toContain(PASSWORD);
  }, 30_000);

  test("--durability is SQLite's: with a PostgreSQL URL it is refused (exit 2)", async () => {
    for (const [args, env] of [
      [["--db", url, "--durability", "full"], {}],
      [["--db", url], { KILN_DURABILITY: "normal" }],
    ] as const) {
      const run = await kiln(["serve", "--port", "0", ...args], env);
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([
        "kiln: --durability (KILN_DURABILITY) is SQLite's setting and does not apply to a PostgreSQL database: there a commit's durability is the server's synchronous_commit",
      ]);
    }
  });
});

/** Polls a task over HTTP until it is FINISHED. */
async function untilFinished(base: string, id: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api<Record<string, unknown>>(`${base}/tasks/${id}`);
    if (status === 200 && body.status === "FINISHED") return body;
    if (Date.now() > deadline) throw new Error(`task ${id} not FINISHED: ${JSON.stringify(body)}`);
    await Bun.sleep(50);
  }
}

describe("local commands on PostgreSQL", () => {
  test("check and recover say they are for SQLite files and what to use instead, exit 2", async () => {
    const check = await kiln(["check", "--db", url]);
    expect(check.code).toBe(2);
    expect(lines(check.stderr)).toEqual([
      `kiln: check is for SQLite database files, not ${shown}: on PostgreSQL use PostgreSQL's own checks (amcheck's pg_amcheck, and its data checksums)`,
    ]);
    const recover = await kiln(["recover", "--to", "/tmp/never.db"], { KILN_DB: url });
    expect(recover.code).toBe(2);
    expect(lines(recover.stderr)).toEqual([
      `kiln: recover is for SQLite database files, not ${shown}: on PostgreSQL use PostgreSQL's own recovery (a pg_dump backup or point-in-time recovery)`,
    ]);
  });

  test("migrate creates the schema, then finds it up to date", async () => {
    const fresh = await testDatabase();
    try {
      const first = await kiln(["migrate", "--db", fresh.url]);
      expect(first.code).toBe(0);
      expect(first.stdout.trim()).toMatch(/is at schema \d+ \(applied \d+ migrations? now\)$/);
      const again = await kiln(["migrate", "--db", fresh.url]);
      expect(again.stdout.trim()).toMatch(/is at schema \d+ \(already up to date\)$/);
    } finally {
      await fresh.drop();
    }
  });

  test("rekey rewrites every value under the new key, refuses while kiln serves, and kiln reads them with the new key alone", async () => {
    const keyA = Buffer.alloc(32, 7).toString("base64");
    const keyB = Buffer.alloc(32, 9).toString("base64");
    const fresh = await testDatabase();
    cleanups.push(fresh.drop);
    const first = await serveOn(fresh.url, ["--encryption-key", keyA]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await api<{ id: string }>(`${first.url}/tasks`, {
        json: { name: "count", params: { to: 2, delayMs: 1 } },
      });
      ids.push(created.body.id);
    }
    for (const id of ids) await untilFinished(first.url, id);

    const refused = await kiln([
      "rekey",
      "--db",
      fresh.url,
      "--encryption-key",
      keyB,
      "--decryption-key",
      keyA,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("is in use by kiln: this command needs it alone");
    expect(await first.stop()).toBe(0);

    const sql = rawClient(fresh.url);
    cleanups.push(() => sql.end());
    const stored = async () =>
      (await sql<{ params: string }[]>`SELECT params::text AS params FROM tasks ORDER BY id`).map(
        (r) => r.params,
      );
    for (const params of await stored()) expect(params).toMatch(/^"kiln:v\d+:/);

    const rekeyed = await kiln([
      "rekey",
      "--db",
      fresh.url,
      "--encryption-key",
      keyB,
      "--decryption-key",
      keyA,
    ]);
    expect(rekeyed.stderr).toBe("");
    expect(rekeyed.code).toBe(0);
    expect(rekeyed.stdout).toContain("5 of 5 tasks and 0 of 0 schedules rewritten");
    const again = await kiln(["rekey", "--db", fresh.url, "--encryption-key", keyB]);
    expect(again.stdout).toContain("0 of 5 tasks and 0 of 0 schedules rewritten");

    // Only key B now: kiln starts and reads every task's params and result.
    const second = await serveOn(fresh.url, ["--encryption-key", keyB]);
    for (const id of ids) {
      const { body } = await api<{ params: unknown; result: unknown }>(`${second.url}/tasks/${id}`);
      expect(body.params).toEqual({ to: 2, delayMs: 1 });
      expect(body.result).toBeDefined();
    }
  }, 90_000);
});
