// kiln serve on PostgreSQL outlives a socket error that nothing listens for (postgres.js takes its
// listeners off a closed socket; Bun may still report the connection's loss on it), and still
// dies of any other uncaught error. Each case runs in a child process of its own.
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { isStraySocketError } from "../../src/cli/stray-socket-errors.ts";

const MODULE = resolve(import.meta.dir, "../../src/cli/stray-socket-errors.ts");

/** Runs `body` in a child with the guard installed; answers its exit code and output. */
async function child(body: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `
    import { Socket } from "node:net";
    import { surviveStraySocketErrors } from ${JSON.stringify(MODULE)};
    const logger = { warn: (m, f) => console.log("WARN", m, JSON.stringify(f)), info() {}, error() {}, debug() {} };
    surviveStraySocketErrors(logger, () => process.exit(1));
    const socketError = (code, syscall) => Object.assign(new Error(syscall + " " + code), { code, syscall });
    ${body}
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

test("an 'error' event of a socket nobody listens to any more is logged, and the process goes on", async () => {
  const out = await child(`
    setTimeout(() => new Socket().emit("error", socketError("ECONNRESET", "read")), 10);
    setTimeout(() => new Socket().emit("error", socketError("ECONNREFUSED", "connect")), 20);
    setTimeout(() => console.log("still here"), 100);
  `);
  expect(out.stdout).toContain("still here");
  expect(out.stdout.match(/WARN a database connection's socket reported its loss late/g)?.length).toBe(2);
  expect(out.code).toBe(0);
});

test("any other uncaught error still ends the process with status 1, printed", async () => {
  const out = await child(`
    setTimeout(() => { throw new TypeError("a real bug"); }, 10);
    setTimeout(() => console.log("still here"), 300);
  `);
  expect(out.code).toBe(1);
  expect(out.stdout).not.toContain("still here");
  expect(out.stderr).toContain("a real bug");
});

test("only a lost or refused connection's codes, from a read, a write or a connect, count", () => {
  const error = (code: string, syscall: string) => Object.assign(new Error(code), { code, syscall });
  expect(isStraySocketError(error("ECONNRESET", "read"))).toBe(true);
  expect(isStraySocketError(error("EPIPE", "write"))).toBe(true);
  expect(isStraySocketError(error("ECONNREFUSED", "connect"))).toBe(true);
  expect(isStraySocketError(error("ENOENT", "open"))).toBe(false);
  expect(isStraySocketError(error("ECONNRESET", "open"))).toBe(false);
  expect(isStraySocketError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(false);
  expect(isStraySocketError("ECONNRESET")).toBe(false);
});
