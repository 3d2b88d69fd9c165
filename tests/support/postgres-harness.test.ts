import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import {
  createDatabase,
  POSTGRES_URL_VARIABLE,
  startThrowawayPostgres,
  testServerUrl,
  withDatabase,
} from "./postgres.ts";

/** Starting servers and child test processes on a loaded 2-core machine: well past bun's 5 s default. */
const START_TIMEOUT_MS = 60_000;
const ROOT = new URL("../../", import.meta.url).pathname;
/** The environment of a child test process that must start a throwaway server of its own. */
const throwawayEnv = () => {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env[POSTGRES_URL_VARIABLE];
  return env;
};

async function answers(url: string): Promise<boolean> {
  const sql = new Bun.SQL(url, { max: 1, connectionTimeout: 2 });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.close().catch(() => {});
  }
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}

interface Started {
  url: string;
  dir: string;
  pid: number;
}

/** Starts fixtures/throwaway-user.ts and reads the server it started from its first line. */
async function childWithServer() {
  const child = Bun.spawn(["bun", join(ROOT, "tests/support/fixtures/throwaway-user.ts")], {
    env: throwawayEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done)
      throw new Error(
        `the child exited before starting a server: ${await new Response(child.stderr).text()}`,
      );
    text += new TextDecoder().decode(value);
  }
  return { child, server: JSON.parse(text.split("\n")[0] ?? "") as Started };
}

// These run whether or not KILN_TEST_POSTGRES_URL is set, so the path a fresh machine takes is
// tested in CI too.
describe("a throwaway PostgreSQL server", () => {
  test(
    "starts on a free port as a real server, and is gone after stop",
    async () => {
      const server = await startThrowawayPostgres();
      afterAll(server.stop);
      const sql = new Bun.SQL(server.url, { max: 1 });
      try {
        const [row] =
          await sql`SELECT current_setting('server_version_num')::int AS version, current_user AS who`;
        expect(row.version).toBeGreaterThanOrEqual(130000);
        expect(row.who).toBe("postgres");
        // A superuser: the tests create and drop databases on it.
        await sql.unsafe("CREATE DATABASE harness_check");
        await sql.unsafe("DROP DATABASE harness_check");
      } finally {
        await sql.close();
      }
      expect(existsSync(server.dir)).toBe(true);
      expect(running(server.pid)).toBe(true);
      await server.stop();
      expect(await answers(server.url)).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
      expect(running(server.pid)).toBe(false);
    },
    START_TIMEOUT_MS,
  );

  test(
    "two started at once get a port each",
    async () => {
      const [a, b] = await Promise.all([startThrowawayPostgres(), startThrowawayPostgres()]);
      try {
        expect(a.port).not.toBe(b.port);
        expect(await answers(a.url)).toBe(true);
        expect(await answers(b.url)).toBe(true);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    },
    START_TIMEOUT_MS,
  );

  test(
    "restarts on the same port and data: its connections are ended, its data kept, its log goes on",
    async () => {
      const server = await startThrowawayPostgres();
      afterAll(server.stop);
      const sql = new Bun.SQL(server.url, { max: 1 });
      try {
        await sql`CREATE TABLE kept (n integer)`;
        await sql`INSERT INTO kept VALUES (7)`;
        const [before] = await sql`SELECT pg_backend_pid() AS backend`;
        const firstPid = server.pid;
        await server.restart();
        expect(server.pid).not.toBe(firstPid);
        expect(running(firstPid)).toBe(false);
        expect(running(server.pid)).toBe(true);
        // The old connection was ended by the shutdown; a new one finds the data.
        const again = new Bun.SQL(server.url, { max: 1 });
        try {
          expect(await again`SELECT n FROM kept`).toEqual([{ n: 7 }]);
          const [after] = await again`SELECT pg_backend_pid() AS backend`;
          expect(after.backend).not.toBe(before.backend);
        } finally {
          await again.close();
        }
        const log = readFileSync(join(server.dir, "server.log"), "utf8");
        expect(log.match(/ready to accept connections/g)?.length).toBe(2);
      } finally {
        await sql.close().catch(() => {});
      }
      await server.stop();
      expect(running(server.pid)).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
      await expect(server.restart()).rejects.toThrow("stopped");
    },
    START_TIMEOUT_MS,
  );

  test(
    "a test run stops and removes the server it started once its files have run",
    async () => {
      const dir = tempDir("kiln-pg-run-");
      afterAll(dir.remove);
      const report = join(dir.path, "server.json");
      const run = Bun.spawnSync(["bun", "test", "./tests/support/fixtures/throwaway-run.fixture.ts"], {
        cwd: ROOT,
        env: { ...throwawayEnv(), THROWAWAY_REPORT: report },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(run.exitCode, run.stderr.toString()).toBe(0);
      const server = JSON.parse(readFileSync(report, "utf8")) as Started;
      expect(await until(() => !running(server.pid))).toBe(true);
      expect(existsSync(server.dir)).toBe(false);
      expect(await answers(server.url)).toBe(false);
    },
    START_TIMEOUT_MS,
  );

  test(
    "Ctrl-C (SIGINT) stops and removes the server before the process exits",
    async () => {
      const { child, server } = await childWithServer();
      expect(await answers(server.url)).toBe(true);
      child.kill("SIGINT");
      expect(await child.exited).toBe(130);
      expect(running(server.pid)).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
    },
    START_TIMEOUT_MS,
  );

  test(
    "a test process killed outright takes its server with it",
    async () => {
      const { child, server } = await childWithServer();
      afterAll(() => rmSync(server.dir, { recursive: true, force: true }));
      child.kill("SIGKILL");
      await child.exited;
      // The server was started to get SIGINT when its parent dies; only its directory is left.
      expect(await until(() => !running(server.pid))).toBe(true);
      expect(await answers(server.url)).toBe(false);
    },
    START_TIMEOUT_MS,
  );
});

describe("createDatabase", () => {
  test(
    "creates an empty database on the test server, named with the prefix; drop() removes it",
    async () => {
      const db = await createDatabase("harness");
      const serverUrl = await testServerUrl();
      expect(db.name).toMatch(/^harness_[0-9a-f]{12}$/);
      expect(db.url).toBe(withDatabase(serverUrl, db.name));
      // Left open on purpose: drop() must end what is still connected.
      const sql = new Bun.SQL(db.url, { max: 1 });
      const [row] =
        await sql`SELECT current_database() AS name, count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public'`;
      expect(row).toEqual({ name: db.name, tables: 0 });
      await db.drop();
      await sql.close().catch(() => {});
      const admin = new Bun.SQL(serverUrl, { max: 1 });
      try {
        const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${db.name}`;
        expect(rows.length).toBe(0);
      } finally {
        await admin.close();
      }
    },
    START_TIMEOUT_MS,
  );

  test("refuses a prefix that is not a plain lower-case name", async () => {
    await expect(createDatabase('x"; DROP')).rejects.toThrow("lower-case");
  });
});
