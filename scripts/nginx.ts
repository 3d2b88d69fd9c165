// The compose check (tests/deploy/compose.test.ts) runs a real nginx in front of kiln nodes with
// deploy/nginx.conf. `bun run test` runs this first: it finds nginx (on PATH or in the sbin
// directories, where Debian puts it) or installs Debian's nginx-light with apt-get when it can,
// as scripts/chromium.ts does for the browser. When it cannot, it prints one line saying so; the
// compose test then fails with a message naming the missing program, never skipping silently.
//
// Usage: bun scripts/nginx.ts   (always exits 0: the test run decides what passes)
import { apt, type Machine, thisMachine } from "./chromium.ts";

const APT_PACKAGE = "nginx-light";
const SBIN = "/usr/sbin:/usr/local/sbin";

const findNginx = (PATH: string) => Bun.which("nginx", { PATH: `${PATH}:${SBIN}` });

export function ensureNginx(machine: Machine, print: (line: string) => void = console.log): void {
  if (findNginx(machine.PATH)) return;
  const missing = (why: string) =>
    print(
      `test setup: no "nginx" and ${why}: the compose check (tests/deploy) will fail; install it with "sudo apt-get install ${APT_PACKAGE}"`,
    );
  const aptGet = Bun.which("apt-get", { PATH: machine.PATH });
  if (!aptGet) {
    missing("there is no apt-get to install it with");
    return;
  }
  const sudo = Bun.which("sudo", { PATH: machine.PATH });
  const command = machine.isRoot
    ? [aptGet]
    : sudo && machine.passwordlessSudo(sudo)
      ? [sudo, "-n", aptGet]
      : undefined;
  if (!command) {
    missing("installing it needs root, and sudo is not available without a password");
    return;
  }
  print(`test setup: no "nginx", which the compose check needs: installing ${APT_PACKAGE} with apt-get…`);
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", APT_PACKAGE],
  ]) {
    const { ok, output } = apt(command, args, machine.PATH);
    if (!ok) {
      missing(`"apt-get ${args[0]}" failed (${output.split("\n").at(-1) ?? ""})`);
      return;
    }
  }
  const path = findNginx(machine.PATH);
  print(
    path
      ? `test setup: installed ${path}`
      : `test setup: apt-get installed ${APT_PACKAGE} but no nginx was found`,
  );
}

if (import.meta.main) ensureNginx(thisMachine());
