// The browser tests (tests/e2e) drive a system Chromium. `bun run test` runs this first: it finds
// `chromium` on PATH or installs Debian's package with apt-get when it can (as root, or with sudo
// that needs no password), printing one line that says what it does. When it cannot, it prints
// one line saying what is missing and how to get it, and the tests run anyway: the browser suites
// then fail with a test named for the missing browser (tests/e2e/harness.ts).
//
// Usage: bun scripts/chromium.ts   (always exits 0: the test run decides what passes)

/** What the browser suites run. */
export const CHROMIUM_COMMAND = "chromium";
export const APT_PACKAGE = "chromium";

/** The executable the browser tests launch, or null when there is none on `PATH`. */
export function findChromium(PATH = process.env.PATH ?? ""): string | null {
  return Bun.which(CHROMIUM_COMMAND, { PATH });
}

/** How to get Chromium, in words a person can act on. */
export const INSTALL_HINT =
  `install it with "sudo apt-get install ${APT_PACKAGE}", ` +
  `or run "bun run test" as root or with passwordless sudo and it installs it`;

export interface Machine {
  PATH: string;
  isRoot: boolean;
  /** Whether `<sudo> -n true` works: sudo without a password prompt. */
  passwordlessSudo: (sudo: string) => boolean;
}

export type ChromiumStep =
  | { kind: "found"; path: string }
  /** `aptGet` is apt-get's path, run by root, or sudo's path, "-n" and apt-get's path. */
  | { kind: "install"; aptGet: string[]; asRoot: "root" | "sudo" }
  | { kind: "cannot-install"; reason: string };

/** What the set-up does on this machine: nothing, install with apt-get, or explain. */
export function chromiumStep(machine: Machine): ChromiumStep {
  const found = findChromium(machine.PATH);
  if (found) return { kind: "found", path: found };
  const aptGet = Bun.which("apt-get", { PATH: machine.PATH });
  if (!aptGet) return { kind: "cannot-install", reason: "there is no apt-get to install it with" };
  if (machine.isRoot) return { kind: "install", aptGet: [aptGet], asRoot: "root" };
  const sudo = Bun.which("sudo", { PATH: machine.PATH });
  if (sudo && machine.passwordlessSudo(sudo)) {
    return { kind: "install", aptGet: [sudo, "-n", aptGet], asRoot: "sudo" };
  }
  return {
    kind: "cannot-install",
    reason: "installing it needs root, and sudo is not available without a password",
  };
}

/** The one line printed when the browser tests cannot get Chromium. */
export function missingLine(reason: string): string {
  return `test setup: no "${CHROMIUM_COMMAND}" on PATH and ${reason}: the browser tests (tests/e2e) will fail; ${INSTALL_HINT}`;
}

export function thisMachine(): Machine {
  const PATH = process.env.PATH ?? "";
  return {
    PATH,
    isRoot: process.getuid?.() === 0,
    passwordlessSudo: (sudo) =>
      Bun.spawnSync([sudo, "-n", "true"], {
        env: { ...process.env, PATH },
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      }).exitCode === 0,
  };
}

/** Runs an apt-get step quietly: only the last line of its output is shown, and only if it fails. */
export function apt(aptGet: string[], args: string[], PATH: string): { ok: boolean; output: string } {
  const run = Bun.spawnSync([...aptGet, ...args], {
    env: { ...process.env, PATH, DEBIAN_FRONTEND: "noninteractive" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = `${run.stdout.toString()}${run.stderr.toString()}`.trim();
  return { ok: run.exitCode === 0, output };
}

/** Finds Chromium, or installs it, or says in one line why the browser tests will fail. */
export function ensureChromium(machine: Machine, print: (line: string) => void = console.log): void {
  const step = chromiumStep(machine);
  if (step.kind === "found") return;
  if (step.kind === "cannot-install") {
    print(missingLine(step.reason));
    return;
  }
  const command = `${step.asRoot === "sudo" ? "sudo -n " : ""}apt-get install -y ${APT_PACKAGE}`;
  print(`test setup: no "${CHROMIUM_COMMAND}" on PATH, which the browser tests need: running "${command}"…`);
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", APT_PACKAGE],
  ]) {
    const { ok, output } = apt(step.aptGet, args, machine.PATH);
    if (ok) continue;
    const last = output.split("\n").at(-1) ?? "";
    print(missingLine(`"apt-get ${args[0]}" failed${last ? ` (${last})` : ""}`));
    return;
  }
  const path = findChromium(machine.PATH);
  print(
    path
      ? `test setup: installed ${path}`
      : missingLine(`apt-get installed ${APT_PACKAGE} but it is not on PATH`),
  );
}

if (import.meta.main) ensureChromium(thisMachine());
