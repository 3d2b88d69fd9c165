// The PostgreSQL tests start a throwaway server of their own (tests/support/postgres.ts) from
// PostgreSQL's server programs, initdb and postgres. `bun run test` runs this first: it finds them
// (Debian's /usr/lib/postgresql/<version>/bin, `pg_config --bindir`, or PATH) or installs Debian's
// `postgresql` package with apt-get when it can (as root, or with sudo that needs no password),
// printing one line that says what it does. When it cannot, it prints one line saying what is
// missing and how to get it, and the tests run anyway: the PostgreSQL test files then fail with a
// test named for the missing server.
//
// Usage: bun scripts/postgres.ts   (always exits 0: the test run decides what passes)
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const APT_PACKAGE = "postgresql";
/** Where Debian's packages put each major version's server programs. */
const DEBIAN_ROOT = "/usr/lib/postgresql";

/** The two programs a throwaway server needs: one makes its data directory, the other runs it. */
export interface PostgresPrograms {
  initdb: string;
  postgres: string;
}

/** How to get a server for the PostgreSQL tests, in words a person can act on. */
export const POSTGRES_HINT =
  `install PostgreSQL's server ("sudo apt-get install ${APT_PACKAGE}"; "bun run test" does it when run as root ` +
  "or with passwordless sudo), or set KILN_TEST_POSTGRES_URL to a server where the tests may create databases";

function programsIn(dir: string): PostgresPrograms | null {
  const initdb = join(dir, "initdb");
  const postgres = join(dir, "postgres");
  return existsSync(initdb) && existsSync(postgres) ? { initdb, postgres } : null;
}

/** initdb and postgres, newest Debian version first, then pg_config's, then PATH's; null when absent. */
export function findPostgresPrograms(
  PATH = process.env.PATH ?? "",
  debianRoot = DEBIAN_ROOT,
): PostgresPrograms | null {
  const versions = existsSync(debianRoot)
    ? readdirSync(debianRoot)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const found = programsIn(join(debianRoot, version, "bin"));
    if (found) return found;
  }
  const pgConfig = Bun.which("pg_config", { PATH });
  if (pgConfig) {
    const run = Bun.spawnSync([pgConfig, "--bindir"], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    const found = run.exitCode === 0 ? programsIn(run.stdout.toString().trim()) : null;
    if (found) return found;
  }
  const initdb = Bun.which("initdb", { PATH });
  const postgres = Bun.which("postgres", { PATH });
  return initdb && postgres ? { initdb, postgres } : null;
}

/** apt-get as root, or through sudo without a password; null when neither is possible. */
function aptGetCommand(PATH: string): string[] | null {
  const aptGet = Bun.which("apt-get", { PATH });
  if (!aptGet) return null;
  if (process.getuid?.() === 0) return [aptGet];
  const sudo = Bun.which("sudo", { PATH });
  const ok =
    sudo && Bun.spawnSync([sudo, "-n", "true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  return sudo && ok && ok.exitCode === 0 ? [sudo, "-n", aptGet] : null;
}

/** Finds PostgreSQL's server programs, or installs them, or says in one line why the tests will fail. */
export function ensurePostgres(print: (line: string) => void = console.log): void {
  const PATH = process.env.PATH ?? "";
  if (findPostgresPrograms(PATH)) return;
  const missing = (reason: string) =>
    print(
      `test setup: no PostgreSQL server programs (initdb, postgres) and ${reason}: the PostgreSQL tests will fail unless KILN_TEST_POSTGRES_URL is set; ${POSTGRES_HINT}`,
    );
  const aptGet = aptGetCommand(PATH);
  if (!aptGet) {
    missing("no apt-get usable as root or with passwordless sudo to install them");
    return;
  }
  print(
    `test setup: no PostgreSQL server programs, which the PostgreSQL tests need: running "apt-get install -y ${APT_PACKAGE}"…`,
  );
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", APT_PACKAGE],
  ]) {
    const run = Bun.spawnSync([...aptGet, ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    if (run.exitCode === 0) continue;
    const last = `${run.stdout.toString()}${run.stderr.toString()}`.trim().split("\n").at(-1) ?? "";
    missing(`"apt-get ${args[0]}" failed${last ? ` (${last})` : ""}`);
    return;
  }
  const found = findPostgresPrograms(PATH);
  if (found) print(`test setup: installed ${found.postgres}`);
  else missing(`apt-get installed ${APT_PACKAGE} but its programs were not found`);
}

if (import.meta.main) ensurePostgres();
