import { afterAll, test } from "bun:test";
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPostgresPrograms, POSTGRES_HINT } from "../../scripts/postgres.ts";

/** A server the PostgreSQL tests may create databases on, instead of a throwaway one. */
export const POSTGRES_URL_VARIABLE = "KILN_TEST_POSTGRES_URL";

/** Why a PostgreSQL test file could not get a server, with what to do about it. */
export class PostgresUnavailableError extends Error {
  override readonly name = "PostgresUnavailableError";
}

/** A PostgreSQL server in a temporary directory, for one test process. */
export interface ThrowawayPostgres {
  /** The `postgres` database as the superuser `postgres`, trust authentication, on 127.0.0.1. */
  url: string;
  port: number;
  /** The temporary directory that holds the data directory and the server's log. */
  dir: string;
  /** The running server process's id (a new one after `restart()`). */
  readonly pid: number;
  /**
   * Stops the server (fast shutdown: every connection is ended) and starts it again on the same
   * port and data directory; resolves once it answers again. For tests of reconnection.
   */
  restart(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The unprivileged account the server runs as when this process is root: initdb refuses root. */
function serverAccount(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(":");
    if (fields) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new PostgresUnavailableError(
    'this process runs as root, which initdb refuses, and there is no "postgres" or "nobody" account to run the server as',
  );
}

/** A command run as `account` (when root) and sent SIGINT, a fast shutdown, if this process dies. */
function asServer(command: string[], account: ReturnType<typeof serverAccount>): string[] {
  const setpriv = Bun.which("setpriv");
  if (!setpriv) {
    if (account)
      throw new PostgresUnavailableError("running the server as another user needs setpriv (util-linux)");
    return command;
  }
  const user = account ? [`--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups"] : [];
  return [setpriv, ...user, "--pdeathsig=INT", ...command];
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

function tail(path: string, lines = 15): string {
  return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("\n") : "";
}

/** Resolves once `url` answers a query; rejects when `exited` settles first or after `timeoutMs`. */
async function untilAnswering(url: string, exited: Promise<number>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sql = new Bun.SQL(url, { max: 1, connectionTimeout: 2 });
    try {
      await sql`SELECT 1`;
      return;
    } catch (error) {
      if (gone) throw new Error("the server exited while starting");
      if (Date.now() > deadline)
        throw new Error(`the server did not answer within ${timeoutMs} ms: ${error}`);
    } finally {
      await sql.close().catch(() => {});
    }
    await Bun.sleep(50);
  }
}

/** True while a process with this id exists and is not a zombie waiting to be reaped. */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Starts a PostgreSQL server of its own: initdb into a temporary directory, then `postgres` on a
 * free port of 127.0.0.1 (no Unix socket), durability off since nothing in it outlives the tests.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const programs = findPostgresPrograms();
  if (!programs)
    throw new PostgresUnavailableError(
      `no PostgreSQL server programs (initdb, postgres) were found: ${POSTGRES_HINT}`,
    );
  const account = serverAccount();
  const dir = mkdtempSync(join(tmpdir(), "kiln-pg-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    if (account) chownSync(dir, account.uid, account.gid);
    const data = join(dir, "data");
    const init = Bun.spawnSync(
      asServer(
        [programs.initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N"],
        account,
      ),
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    if (init.exitCode !== 0) {
      throw new PostgresUnavailableError(
        `initdb failed (exit ${init.exitCode}): ${init.stderr.toString().trim()}`,
      );
    }
    const log = join(dir, "server.log");
    const launch = (port: number) => {
      // Opened for appending, so a restarted server's log follows the first one's.
      const fd = openSync(log, "a");
      try {
        return spawnServer(port, fd);
      } finally {
        closeSync(fd);
      }
    };
    const spawnServer = (port: number, fd: number) =>
      Bun.spawn(
        asServer(
          [
            programs.postgres,
            "-D",
            data,
            "-p",
            String(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
          ],
          account,
        ),
        { stdin: "ignore", stdout: fd, stderr: fd },
      );
    /** Fast shutdown, then SIGKILL if it takes too long. */
    const shutDown = async (running: ReturnType<typeof launch>) => {
      running.kill("SIGINT");
      const timer = setTimeout(() => running.kill("SIGKILL"), 20_000);
      await running.exited;
      clearTimeout(timer);
    };
    // A port found free may be taken before the server binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = freePort();
      let server = launch(port);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      try {
        await untilAnswering(url, server.exited, 30_000);
      } catch (error) {
        server.kill("SIGKILL");
        await server.exited;
        if (attempt < 3 && tail(log).includes("could not bind")) continue;
        throw new PostgresUnavailableError(
          `the throwaway PostgreSQL server did not start: ${error}\n${tail(log)}`,
        );
      }
      let stopped: Promise<void> | undefined;
      let restarting: Promise<void> | undefined;
      const stop = () => {
        stopped ??= (async () => {
          await restarting?.catch(() => {});
          await shutDown(server);
          remove();
        })();
        return stopped;
      };
      const restart = () => {
        if (stopped) return Promise.reject(new Error("the throwaway PostgreSQL server was stopped"));
        restarting = (async () => {
          await shutDown(server);
          // The port was the old server's until it exited; a few tries cover a slow release.
          for (let attempt = 1; ; attempt++) {
            server = launch(port);
            try {
              await untilAnswering(url, server.exited, 30_000);
              return;
            } catch (error) {
              server.kill("SIGKILL");
              await server.exited;
              if (attempt < 5 && tail(log).includes("could not bind")) {
                await Bun.sleep(200);
                continue;
              }
              throw new Error(`the throwaway PostgreSQL server did not start again: ${error}\n${tail(log)}`);
            }
          }
        })();
        return restarting;
      };
      return {
        url,
        port,
        dir,
        get pid() {
          return server.pid;
        },
        restart,
        stop,
      };
    }
  } catch (error) {
    remove();
    throw error;
  }
}

/** Ends a server from a signal handler, where nothing asynchronous runs any more: at once, then waits. */
function stopNow(server: ThrowawayPostgres): void {
  try {
    process.kill(server.pid, "SIGQUIT");
  } catch {
    // Already gone.
  }
  const deadline = Date.now() + 5_000;
  while (processAlive(server.pid) && Date.now() < deadline) Bun.sleepSync(20);
  rmSync(server.dir, { recursive: true, force: true });
}

let shared: Promise<ThrowawayPostgres> | undefined;

/** The throwaway server this process started for its tests, if it did. */
export function sharedThrowawayServer(): Promise<ThrowawayPostgres> | undefined {
  return shared;
}

/**
 * The server this test process uses: KILN_TEST_POSTGRES_URL's, else one throwaway server started
 * on first use (a run without PostgreSQL tests never starts it) and stopped when the run ends
 * (tests/support/preload.ts) or is interrupted.
 */
export function testServerUrl(): Promise<string> {
  const given = process.env[POSTGRES_URL_VARIABLE];
  if (given) return Promise.resolve(given);
  if (!shared) {
    shared = startThrowawayPostgres();
    shared.then(
      (server) => {
        for (const [signal, code] of [
          ["SIGINT", 130],
          ["SIGTERM", 143],
        ] as const) {
          process.once(signal, () => {
            stopNow(server);
            process.exit(code);
          });
        }
      },
      () => {},
    );
  }
  return shared.then((server) => server.url);
}

/** Stops the shared throwaway server, if this process started one. */
export async function stopSharedServer(): Promise<void> {
  const server = await shared?.catch(() => undefined);
  await server?.stop();
}

/** `url` with another database name. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing what is still connected to it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database named `<prefix>_<random>` on the test server. Rejects with
 * PostgresUnavailableError when there is no server to be had.
 */
export async function createDatabase(prefix: string): Promise<TestDatabase> {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) {
    throw new Error(`a database prefix is lower-case letters, digits and _: ${prefix}`);
  }
  let serverUrl: string;
  try {
    serverUrl = await testServerUrl();
  } catch (error) {
    if (error instanceof PostgresUnavailableError) throw error;
    throw new PostgresUnavailableError(`${error}: ${POSTGRES_HINT}`);
  }
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new Bun.SQL(serverUrl, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } catch (error) {
    const where = process.env[POSTGRES_URL_VARIABLE]
      ? `${POSTGRES_URL_VARIABLE}'s server (${redacted(serverUrl)}): ${error}; check that it runs and lets this user create databases, or unset ${POSTGRES_URL_VARIABLE} to have the tests start a throwaway server`
      : `the throwaway server (${serverUrl}): ${error}`;
    throw new PostgresUnavailableError(`cannot create a database on ${where}`);
  } finally {
    await admin.close();
  }
  const drop = async () => {
    const dropper = new Bun.SQL(serverUrl, { max: 1 });
    try {
      await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await dropper.close();
    }
  };
  return { name, url: withDatabase(serverUrl, name), drop };
}

/** A URL without its password, for messages. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/**
 * For the top of a PostgreSQL test file (`const db = await freshDatabase("prefix")`): a database
 * of its own, dropped once its tests are done. When no server can be had it resolves undefined
 * and adds one failing test named for it that says why and what to do: the file's own tests
 * cannot run, and a skip would hide that (a set-up hook that threw would be reported unnamed).
 */
export async function freshDatabase(prefix: string): Promise<TestDatabase | undefined> {
  try {
    const db = await createDatabase(prefix);
    afterAll(db.drop);
    return db;
  } catch (error) {
    if (!(error instanceof PostgresUnavailableError)) throw error;
    test("the PostgreSQL tests need a PostgreSQL server", () => {
      throw error;
    });
    return undefined;
  }
}
