// scripts/chromium.ts, which `bun run test` runs first: on a PATH without chromium it installs
// Debian's package with apt-get when it can, or says in one line what is missing. The machines
// here are directories of small executables standing in for chromium, apt-get and sudo.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromiumStep, type Machine } from "../scripts/chromium.ts";
import { tempDir } from "./helpers.ts";

const SCRIPT = new URL("../scripts/chromium.ts", import.meta.url).pathname;
const dirs: Array<{ remove: () => void }> = [];
afterAll(() => {
  for (const dir of dirs) dir.remove();
});

/**
 * A directory to use as the whole PATH, holding the given executables (name → shell script body,
 * where @DIR@ stands for the directory: with nothing else on PATH, not even `dirname` is there).
 */
function pathWith(programs: Record<string, string>): string {
  const dir = tempDir("kiln-path-");
  dirs.push(dir);
  for (const [name, body] of Object.entries(programs)) {
    const file = join(dir.path, name);
    writeFileSync(file, `#!/bin/sh\n${body.replaceAll("@DIR@", dir.path)}\n`);
    chmodSync(file, 0o755);
  }
  return dir.path;
}

/** apt-get that logs its arguments and, on install, puts a chromium beside itself. */
const FAKE_APT_GET = [
  'echo "apt-get $*" >> "@DIR@/apt.log"',
  'if [ "$1" = "install" ]; then printf "#!/bin/sh\\n" > "@DIR@/chromium"; /bin/chmod +x "@DIR@/chromium"; fi',
].join("\n");
const FAILING_APT_GET = 'echo "E: Unable to locate package chromium" >&2; [ "$1" = "update" ] || exit 100';
/** sudo that runs the command it is given (after -n), as sudo without a password prompt would. */
const FAKE_SUDO = '[ "$1" = "-n" ] && shift; exec "$@"';

const machine = (PATH: string, overrides: Partial<Machine> = {}): Machine => ({
  PATH,
  isRoot: false,
  passwordlessSudo: () => false,
  ...overrides,
});

describe("what the set-up decides", () => {
  test("chromium on PATH: nothing to do", () => {
    const PATH = pathWith({ chromium: "exit 0" });
    expect(chromiumStep(machine(PATH))).toEqual({ kind: "found", path: join(PATH, "chromium") });
  });

  test("no chromium and no apt-get: it cannot install, and says so", () => {
    expect(chromiumStep(machine(pathWith({}), { isRoot: true }))).toEqual({
      kind: "cannot-install",
      reason: "there is no apt-get to install it with",
    });
  });

  test("no chromium, as root: apt-get installs it", () => {
    const PATH = pathWith({ "apt-get": FAKE_APT_GET });
    expect(chromiumStep(machine(PATH, { isRoot: true }))).toEqual({
      kind: "install",
      aptGet: [join(PATH, "apt-get")],
      asRoot: "root",
    });
  });

  test("no chromium, not root, sudo without a password: sudo -n apt-get installs it", () => {
    const PATH = pathWith({ "apt-get": FAKE_APT_GET, sudo: FAKE_SUDO });
    const asked: string[] = [];
    const step = chromiumStep(
      machine(PATH, {
        passwordlessSudo: (sudo) => {
          asked.push(sudo);
          return true;
        },
      }),
    );
    expect(step).toEqual({
      kind: "install",
      aptGet: [join(PATH, "sudo"), "-n", join(PATH, "apt-get")],
      asRoot: "sudo",
    });
    expect(asked).toEqual([join(PATH, "sudo")]);
  });

  test("no chromium, not root, sudo wants a password (or there is none): it cannot install", () => {
    const withSudo = pathWith({ "apt-get": FAKE_APT_GET, sudo: FAKE_SUDO });
    const withoutSudo = pathWith({ "apt-get": FAKE_APT_GET });
    for (const PATH of [withSudo, withoutSudo]) {
      expect(chromiumStep(machine(PATH))).toEqual({
        kind: "cannot-install",
        reason: "installing it needs root, and sudo is not available without a password",
      });
    }
  });
});

/** `bun scripts/chromium.ts` with `PATH` as its whole PATH. */
async function runScript(PATH: string) {
  const child = Bun.spawn([process.execPath, SCRIPT], {
    env: { PATH },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr, lines: stdout.split("\n").filter((line) => line !== "") };
}

const asRoot = process.getuid?.() === 0;

describe("the script, as `bun run test` runs it", () => {
  test("installs chromium with apt-get when it is missing, in one line saying so, and exits 0", async () => {
    // As root it runs apt-get itself; otherwise the stand-in sudo, which needs no password, runs it.
    const PATH = pathWith({ "apt-get": FAKE_APT_GET, sudo: FAKE_SUDO });
    const run = await runScript(PATH);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const how = asRoot ? "apt-get install -y chromium" : "sudo -n apt-get install -y chromium";
    expect(run.lines).toEqual([
      `test setup: no "chromium" on PATH, which the browser tests need: running "${how}"…`,
      `test setup: installed ${join(PATH, "chromium")}`,
    ]);
    expect(await Bun.file(join(PATH, "apt.log")).text()).toBe(
      "apt-get update -qq\napt-get install -y -qq chromium\n",
    );
  });

  test("says in one line what is missing and how to install it when it cannot, and exits 0", async () => {
    const run = await runScript(pathWith({}));
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      'test setup: no "chromium" on PATH and there is no apt-get to install it with: the browser tests ' +
        '(tests/e2e) will fail; install it with "sudo apt-get install chromium", or run "bun run test" ' +
        "as root or with passwordless sudo and it installs it",
    ]);
  });

  test("an apt-get that fails is reported with its last line, and the tests still run", async () => {
    const run = await runScript(pathWith({ "apt-get": FAILING_APT_GET, sudo: FAKE_SUDO }));
    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(2);
    expect(run.lines[1]).toContain(
      'no "chromium" on PATH and "apt-get install" failed (E: Unable to locate package chromium)',
    );
    expect(run.lines[1]).toContain('install it with "sudo apt-get install chromium"');
  });

  test("chromium already on PATH: silent", async () => {
    const run = await runScript(pathWith({ chromium: "exit 0" }));
    expect(run).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });
});
